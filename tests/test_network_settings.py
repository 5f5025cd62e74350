"""verify=, proxy= and trust_env= behave the same on both backends: a TLS server with a
self-signed certificate and a CONNECT proxy, both on loopback and run by the tests."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from voipstudio_async import APIConnectionError, VoipStudio

BACKENDS = ["httpx", "aiohttp"]
TRACE = b"INVITE sip:1@example.invalid SIP/2.0"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA) and its key."""
    directory = tmp_path_factory.mktemp("tls")
    crt, key = directory / "server.crt", directory / "server.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(crt)),
        ],
        check=True,
        capture_output=True,
    )
    return crt, key


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                return
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n"
                + f"content-length: {len(TRACE)}\r\n\r\n".encode()
                + TRACE
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def tls_url(cert: tuple[Path, Path]) -> AsyncIterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    server = await asyncio.start_server(_answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    yield f"https://127.0.0.1:{port}/v1.1/voipstudio"
    server.close()


class ConnectProxy:
    """A forward proxy that tunnels ``CONNECT host:port`` and records each target."""

    def __init__(self) -> None:
        self.targets: list[str] = []

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        method, target, _ = head.split("\r\n", 1)[0].split(" ", 2)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            writer.close()
            return
        self.targets.append(target)
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[str, ConnectProxy]]:
    handler = ConnectProxy()
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", handler
    server.close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for scheme in ("https", "http", "all"):
        monkeypatch.delenv(f"{scheme}_proxy", raising=False)
        monkeypatch.delenv(f"{scheme.upper()}_PROXY", raising=False)


async def _trace(base_url: str, backend: str, **options: Any) -> str:
    async with VoipStudio(
        1, "k", base_url=base_url, http_backend=backend, max_retries=0, **options
    ) as vs:
        return await vs.cdrs.trace(1)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_self_signed_server_is_refused_by_default(tls_url: str, backend: str) -> None:
    with pytest.raises(APIConnectionError):
        await _trace(tls_url, backend)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_verify_with_its_ca_accepts_it(
    tls_url: str, cert: tuple[Path, Path], backend: str
) -> None:
    assert await _trace(tls_url, backend, verify=str(cert[0])) == TRACE.decode()
    context = ssl.create_default_context(cafile=str(cert[0]))
    assert await _trace(tls_url, backend, verify=context) == TRACE.decode()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_ssl_cert_file_is_honoured_unless_trust_env_is_off(
    tls_url: str, cert: tuple[Path, Path], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    assert await _trace(tls_url, backend) == TRACE.decode()
    with pytest.raises(APIConnectionError):
        await _trace(tls_url, backend, trust_env=False)


def test_verification_is_never_silently_off() -> None:
    with pytest.raises(ValueError, match="verify=False"):
        VoipStudio(1, "k", verify=False)
    with pytest.raises(ValueError, match="CA bundle"):
        VoipStudio(1, "k", verify="/nonexistent/ca.pem")
    with pytest.raises(ValueError, match="your"):
        VoipStudio(1, "k", verify=ssl.create_default_context(), transport=object())  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_proxy_by_argument(
    tls_url: str,
    cert: tuple[Path, Path],
    proxy: tuple[str, ConnectProxy],
    backend: str,
) -> None:
    url, handler = proxy
    assert await _trace(tls_url, backend, verify=str(cert[0]), proxy=url) == TRACE.decode()
    assert handler.targets == [tls_url.split("/")[2]]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_proxy_by_environment_and_no_proxy(
    tls_url: str,
    cert: tuple[Path, Path],
    proxy: tuple[str, ConnectProxy],
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, handler = proxy
    monkeypatch.setenv("HTTPS_PROXY", url)
    assert await _trace(tls_url, backend, verify=str(cert[0])) == TRACE.decode()
    assert len(handler.targets) == 1
    await _trace(tls_url, backend, verify=str(cert[0]), trust_env=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    await _trace(tls_url, backend, verify=str(cert[0]))
    assert len(handler.targets) == 1  # neither without trust_env nor for a NO_PROXY host
