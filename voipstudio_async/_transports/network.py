"""TLS verification and proxy, resolved once per client and applied the same on both backends.

httpx applies ``HTTPS_PROXY``/``NO_PROXY`` only to a client without its own transport,
and aiohttp's session is built with ``trust_env=False``: so the SDK resolves both itself,
from the arguments or (with ``trust_env``) the environment, and hands the same SSL
context and proxy URL to whichever transport it builds.
"""

from __future__ import annotations

import os
import ssl
import urllib.request

import httpx

__all__ = ["proxy_for", "ssl_context"]


def ssl_context(
    verify: ssl.SSLContext | str | os.PathLike[str] | bool, trust_env: bool
) -> ssl.SSLContext:
    """The context that verifies the server: ``verify`` as in httpx, minus "off".

    ``True`` is certifi's bundle, or with ``trust_env`` ``SSL_CERT_FILE``/``SSL_CERT_DIR``
    when set; a path is a CA bundle file or directory; an ``ssl.SSLContext`` is used as
    given. ``False`` is refused: turning verification off takes an explicit context.
    """
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        raise ValueError(
            "verify=False would silently accept any server: pass verify= the CA bundle "
            "that signed it (or an ssl.SSLContext you built)"
        )
    if verify is True:
        cafile = os.environ.get("SSL_CERT_FILE") if trust_env else None
        capath = os.environ.get("SSL_CERT_DIR") if trust_env else None
        if cafile or capath:
            return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
        return httpx.create_ssl_context(trust_env=False)  # the environment was read above
    if isinstance(verify, str | os.PathLike):
        path = os.fspath(verify)
        if os.path.isdir(path):
            return ssl.create_default_context(capath=path)
        if not os.path.isfile(path):
            raise ValueError(f"verify= names no CA bundle file or directory: {path!r}")
        return ssl.create_default_context(cafile=path)
    raise TypeError(f"verify must be a bool, a path or an ssl.SSLContext, got {verify!r}")


def proxy_for(base_url: str, proxy: str | httpx.URL | None, trust_env: bool) -> str | None:
    """The proxy URL for requests to ``base_url``: ``proxy``, else (with ``trust_env``)
    ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` unless ``NO_PROXY`` covers its host."""
    if proxy is not None:
        url = httpx.URL(str(proxy))
        if url.scheme not in ("http", "https"):
            raise ValueError("proxy must be an http:// or https:// URL")
        return str(url)
    if not trust_env:
        return None
    target = httpx.URL(base_url)
    proxies = urllib.request.getproxies_environment()
    if urllib.request.proxy_bypass(target.host):  # NO_PROXY (on POSIX: the environment)
        return None
    found = proxies.get(target.scheme) or proxies.get("all")
    return found or None
