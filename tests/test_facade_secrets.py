"""No credential in reprs, exception text or any log record; logging stays the app's business."""

from __future__ import annotations

import base64
import logging
import subprocess
import sys
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from voipstudio_async import VoipStudio, VoipStudioError

SECRET = "S3NT1NEL-c0ffee"
FORMS = [SECRET, base64.b64encode(f"123456:{SECRET}".encode()).decode()]

CREDENTIALS: dict[str, dict[str, Any]] = {
    "api_key": {"user_id": 123456, "api_key": SECRET},
    "token": {"token": SECRET},
    "password": {"email": "a@example.com", "password": SECRET},
}


def _login_ok(request: httpx.Request) -> httpx.Response | None:
    if request.url.path.endswith("/login"):
        # The server echoes nothing secret back, but the session token is a secret too.
        return httpx.Response(200, json={"user_token": SECRET, "user_id": 123456})
    return None


def _scenario(name: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        login = _login_ok(request)
        if login is not None:
            return login
        if name == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        status = {"success": 200, "401": 401, "500": 500}[name]
        body = {"data": {"id": 1}} if status == 200 else {"message": "no"}
        return httpx.Response(status, json=body)

    return handler


def _leaks(text: str) -> bool:
    return any(form in text for form in FORMS)


@pytest.mark.parametrize("scenario", ["success", "401", "500", "timeout"])
@pytest.mark.parametrize("credential", list(CREDENTIALS))
async def test_secret_never_leaks(
    httpx_mock: HTTPXMock,
    caplog: pytest.LogCaptureFixture,
    fake_sleep: Any,
    credential: str,
    scenario: str,
) -> None:
    httpx_mock.add_callback(_scenario(scenario), is_reusable=True)
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore

    async with VoipStudio(**CREDENTIALS[credential]) as vs:
        vs._requester._sleep = fake_sleep
        assert not _leaks(repr(vs))
        assert not _leaks(repr(vs._requester.auth))
        try:
            await vs.cdrs.get(1)
        except VoipStudioError as exc:
            assert scenario != "success"
            for text in (str(exc), repr(exc), str(exc.__cause__), repr(exc.__cause__)):
                assert not _leaks(text)
        else:
            assert scenario == "success"

    assert caplog.records  # the DEBUG records were captured
    for record in caplog.records:
        assert not _leaks(record.getMessage())
        assert not _leaks(repr(record.__dict__))


@pytest.mark.parametrize("status", [401, 403, 500, 202])
async def test_a_refused_login_keeps_no_password(httpx_mock: HTTPXMock, status: int) -> None:
    # 202 is the two-factor challenge (TwoFactorRequiredError), the others error statuses.
    body = {"nonce": "n"} if status == 202 else {"message": "Invalid credentials"}
    httpx_mock.add_response(status_code=status, json=body, is_reusable=True)
    async with VoipStudio(**CREDENTIALS["password"], max_retries=0) as vs:
        with pytest.raises(VoipStudioError) as caught:
            await vs.cdrs.get(1)
    exc = caught.value
    response = getattr(exc, "response", None)
    texts = [str(exc), repr(exc), repr(vars(exc))]
    if response is not None:
        request = response.request
        texts += [repr(request), repr(request.headers), request.content.decode()]
        assert b'"password": "***"' in request.content or b'"password":"***"' in request.content
    for text in texts:
        assert not _leaks(text), text


def test_import_and_construction_add_no_handlers() -> None:
    # In a fresh interpreter, so earlier imports cannot hide a handler added at import.
    code = (
        "import logging\n"
        "import voipstudio_async\n"
        "voipstudio_async.VoipStudio(token='t')\n"
        "print(len(logging.getLogger().handlers),"
        " len(logging.getLogger('voipstudio_async').handlers))\n"
    )
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.split() == ["0", "0"]
