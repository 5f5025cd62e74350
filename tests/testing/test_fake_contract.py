"""Every operation's answers, good and bad, validate against openapi/history.yaml (openapi-core)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from voipstudio_async.testing import FakeVoipStudio

SPEC = Path(__file__).parents[2] / "openapi" / "history.yaml"
HOST = "https://l7api.com"
PREFIX = "/v1.1/voipstudio"


def _filter(prop: str, op: str, value: Any) -> str:
    return json.dumps([{"property": prop, "operator": op, "value": value}])


FILTER = _filter("duration", "gte", 10)
INBOX = _filter("folder", "eq", "INBOX")
TWO_FOLDERS = [{"id": 1, "folder": 2}, {"id": 2, "folder": "Work"}]
PAGE = {"page": "2", "limit": "5", "sort": "calldate", "dir": "DESC"}

# (method, template, concrete path, query, JSON body, expected status)
Case = tuple[str, str, str, dict[str, str], Any, int]
CASES: list[Case] = [
    ("POST", "/login", "/login", {}, "LOGIN", 200),
    ("POST", "/login", "/login", {}, {"email": "jsmith@example.com", "password": "x"}, 401),
    ("POST", "/login", "/login", {}, {"email": 1}, 400),
    ("POST", "/login2fa", "/login2fa", {}, {"code": "1", "nonce": "n"}, 401),
    ("POST", "/login2fa", "/login2fa", {}, {"code": 1}, 400),
    ("GET", "/cdrs", "/cdrs", PAGE, None, 200),
    ("GET", "/cdrs", "/cdrs", {"filter": FILTER}, None, 200),
    ("GET", "/cdrs", "/cdrs", {"filter": "[{"}, None, 400),
    ("GET", "/cdrs", "/cdrs", {"limit": "10000"}, None, 200),
    ("PATCH", "/cdrs", "/cdrs", {}, [{"id": 1, "labels": ["vip"], "info": "x"}], 200),
    ("PATCH", "/cdrs", "/cdrs", {}, [{"id": 1, "metadata": "m"}, {"id": 2, "info": "i"}], 200),
    ("PATCH", "/cdrs", "/cdrs", {}, [{"id": 999_999, "info": "x"}], 404),
    ("PATCH", "/cdrs", "/cdrs", {}, [{"id": 1, "labels": "vip"}], 400),
    ("PATCH", "/cdrs", "/cdrs", {}, [{"id": 1, "billsec": 5}], 400),
    ("GET", "/cdrs/calltracking", "/cdrs/calltracking", {"limit": "3"}, None, 200),
    ("GET", "/cdrs/calltracking", "/cdrs/calltracking", {"sort": "nope"}, None, 400),
    ("GET", "/cdrs/dictionaries", "/cdrs/dictionaries", {}, None, 200),
    ("GET", "/cdrs/{id}", "/cdrs/3", {}, None, 200),
    ("GET", "/cdrs/{id}", "/cdrs/999999", {}, None, 404),
    ("GET", "/cdrs/{id}.trace", "/cdrs/3.trace", {}, None, 200),
    ("GET", "/cdrs/{id}.trace", "/cdrs/999999.trace", {}, None, 404),
    ("GET", "/cdrs/{id}.pcap", "/cdrs/3.pcap", {}, None, 200),
    ("GET", "/cdrs/{id}.pcap", "/cdrs/999999.pcap", {}, None, 404),
    ("GET", "/cdrs/{id}/notes", "/cdrs/NOTED/notes", {}, None, 200),
    ("GET", "/cdrs/{id}/notes", "/cdrs/999999/notes", {}, None, 404),
    ("GET", "/calltracking/cdrs", "/calltracking/cdrs", {"dir": "ASC"}, None, 200),
    ("GET", "/monitors", "/monitors", {"limit": "2"}, None, 200),
    ("GET", "/monitors", "/monitors", {"page": "0"}, None, 400),
    ("GET", "/monitors/{id}", "/monitors/2", {}, None, 200),
    ("GET", "/monitors/{id}", "/monitors/999999", {}, None, 404),
    ("GET", "/monitors/{id}.mp3", "/monitors/2.mp3", {}, None, 200),
    ("GET", "/monitors/{id}.mp3", "/monitors/999999.mp3", {}, None, 404),
    ("DELETE", "/monitors/{id}", "/monitors/3,4", {}, None, 204),
    ("DELETE", "/monitors/{id}", "/monitors/5,999999", {}, None, 404),
    ("DELETE", "/monitors", "/monitors", {}, None, 202),
    ("GET", "/msdrs", "/msdrs", {"filter": _filter("type", "eq", "audio")}, None, 200),
    ("GET", "/msdrs", "/msdrs", {"filter": _filter("x", "eq", 1)}, None, 400),
    ("GET", "/msdrs/dictionaries", "/msdrs/dictionaries", {}, None, 200),
    ("GET", "/msdrs/{id}", "/msdrs/1", {}, None, 200),
    ("GET", "/msdrs/{id}", "/msdrs/999999", {}, None, 404),
    ("GET", "/msdrs/{id}.trace", "/msdrs/1.trace", {}, None, 200),
    ("GET", "/msdrs/{id}.pcap", "/msdrs/1.pcap", {}, None, 200),
    ("GET", "/msdrs/{id}.pcap", "/msdrs/999999.pcap", {}, None, 404),
    ("GET", "/chats", "/chats", {"sort": "state", "dir": "DESC"}, None, 200),
    ("GET", "/chats/{id}", "/chats/1", {}, None, 200),
    ("GET", "/chats/{id}", "/chats/999999", {}, None, 404),
    ("DELETE", "/chatmsgs/{ids}", "/chatmsgs/1,2", {}, None, 204),
    ("DELETE", "/chatmsgs/{ids}", "/chatmsgs/999999", {}, None, 404),
    ("DELETE", "/chatmsgs", "/chatmsgs", {}, None, 204),
    ("GET", "/voicemessages", "/voicemessages", {"filter": INBOX}, None, 200),
    ("PATCH", "/voicemessages", "/voicemessages", {}, [{"id": 1, "folder": "Old"}], 200),
    ("PATCH", "/voicemessages", "/voicemessages", {}, TWO_FOLDERS, 200),
    ("PATCH", "/voicemessages", "/voicemessages", {}, [{"id": 1}], 400),
    ("PATCH", "/voicemessages", "/voicemessages", {}, [{"id": 999_999, "folder": "Old"}], 404),
    ("GET", "/voicemessages/{id}", "/voicemessages/1", {}, None, 200),
    ("GET", "/voicemessages/{id}", "/voicemessages/999999", {}, None, 404),
    ("GET", "/voicemessages/{id}.mp3", "/voicemessages/1.mp3", {}, None, 200),
    ("GET", "/voicemessages/{id}.mp3", "/voicemessages/999999.mp3", {}, None, 404),
    ("DELETE", "/voicemessages/{id}", "/voicemessages/2", {}, None, 204),
    ("DELETE", "/voicemessages/{id}", "/voicemessages/999999", {}, None, 404),
    ("DELETE", "/voicemessages", "/voicemessages", {}, None, 202),
    ("DELETE", "/statements", "/statements", {}, None, 204),
    ("GET", "/sms/dictionaries", "/sms/dictionaries", {}, None, 200),
    ("GET", "/mediasessions/dictionaries", "/mediasessions/dictionaries", {}, None, 200),
    ("GET", "/users/{id}/cdrs.csv", "/users/USER/cdrs.csv", {"sort": "calldate"}, None, 200),
    ("GET", "/users/{id}/cdrs.csv", "/users/USER/cdrs.csv", {"filter": "nope"}, None, 400),
    ("DELETE", "/cdrs", "/cdrs", {}, None, 204),
]


def _decode(data: bytes, charset: str = "utf-8") -> str:
    return data.decode(charset)


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    # openapi-core decodes text/plain bodies but leaves text/csv as bytes.
    config = Config(extra_media_type_deserializers={"text/csv": _decode})
    return OpenAPI.from_file_path(str(SPEC), config=config)


@pytest.fixture(scope="module")
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=1, cdrs=300, monitors=20, msdrs=20, chats=5, voicemessages=20)


def _spec_operations() -> set[tuple[str, str]]:
    paths = yaml.safe_load(SPEC.read_text())["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item}


def test_cases_cover_every_operation_and_status_class() -> None:
    covered = {(method, template) for method, template, *_ in CASES}
    assert covered == _spec_operations()
    assert len(covered) == 36  # 34 History operations + login + login2fa


async def _call(fake: FakeVoipStudio, case: Case) -> tuple[httpx.Request, httpx.Response]:
    method, _, path, query, body, _ = case
    creds = fake.credentials
    noted = next(r["id"] for r in fake.records("cdrs") if r["nb_notes"])
    path = path.replace("NOTED", str(noted)).replace("USER", str(creds.user_id))
    if body == "LOGIN":
        body = {"email": creds.email, "password": creds.password}
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=fake.base_url, auth=(str(creds.user_id), creds.api_key)
    ) as client:
        response = await client.request(method, path, params=query, json=body)
    return response.request, response


def _path_params(template: str, path: str) -> dict[str, Any]:
    pattern = re.escape(PREFIX + template).replace(r"\{", "{").replace(r"\}", "}")
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+?)", pattern)
    match = re.fullmatch(pattern, path)
    assert match is not None, (template, path)
    return match.groupdict()


def _validate(
    openapi: OpenAPI, template: str, request: httpx.Request, response: httpx.Response
) -> None:
    content_type = request.headers.get("content-type", "application/json")
    mock_request = MockRequest(
        HOST,
        request.method,
        request.url.path,
        # `/cdrs/3.trace` also fits `/cdrs/{id}`; name the template to avoid the ambiguity.
        path_pattern=PREFIX + template,
        view_args=_path_params(template, request.url.path),
        args=dict(request.url.params),
        headers=dict(request.headers),
        data=request.content or None,
        content_type=content_type,
    )
    if response.is_success:
        # Bad requests are bad on purpose; good ones must be valid for the check to mean anything.
        openapi.validate_request(mock_request)
    mock_response = MockResponse(
        response.content,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=response.headers.get("content-type", ""),
    )
    openapi.validate_response(mock_request, mock_response)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]} {c[2]} {c[5]}" for c in CASES])
async def test_answer_validates(openapi: OpenAPI, fake: FakeVoipStudio, case: Case) -> None:
    request, response = await _call(fake, case)
    assert response.status_code == case[5], response.text
    if response.status_code not in (202, 204):
        assert int(response.headers["content-length"]) == len(response.content)
    _validate(openapi, case[1], request, response)


@pytest.mark.parametrize("auth", [None, ("1", "wrong"), "token"])
async def test_unauthorized_answers_validate(
    openapi: OpenAPI, fake: FakeVoipStudio, auth: Any
) -> None:
    headers = {"X-Auth-Token": "nope"} if auth == "token" else {}
    basic = auth if isinstance(auth, tuple) else None
    async with httpx.AsyncClient(transport=fake.transport(), base_url=fake.base_url) as client:
        response = await client.get("/cdrs", headers=headers, auth=basic)
    assert response.status_code == 401
    assert response.json()["message"] == "Unauthorized"
    assert response.json()["errors"][0]["message"]
    mock_request = MockRequest(HOST, "GET", PREFIX + "/cdrs")
    mock_response = MockResponse(response.content, status_code=401, headers=dict(response.headers))
    openapi.validate_response(mock_request, mock_response)
