"""The fake refuses what a server would refuse, and never answers 500 to odd input."""

from __future__ import annotations

import json

import httpx
import pytest

from voipstudio_async.testing import FakeVoipStudio


@pytest.mark.parametrize(
    "query", [{"dir": ""}, {"sort": ""}, {"filter": ""}, {"dir": "asc"}, {"sort": "labels"}]
)
async def test_empty_or_malformed_sort_dir_and_filter_are_400(
    client: httpx.AsyncClient, query: dict[str, str]
) -> None:
    response = await client.get("/cdrs", params=query)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("user", ["0", "00", "-1", "x"])
async def test_the_csv_export_refuses_a_user_id_below_1(
    client: httpx.AsyncClient, user: str
) -> None:
    response = await client.get(f"/users/{user}/cdrs.csv")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "id"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", "/cdrs/dictionaries", "GET"),
        ("TRACE", "/sms/dictionaries", "GET"),
        ("TRACE", "/login", "POST"),
        ("GET", "/login2fa", "POST"),
        ("TRACE", "/login2fa", "POST"),
        ("OPTIONS", "/monitors/6.mp3", "GET"),
        ("DELETE", "/monitors/999999.mp3", "GET"),
        ("DELETE", "/voicemessages/1.mp3", "GET"),
        ("DELETE", "/cdrs/1.pcap", "GET"),
        ("POST", "/cdrs/1/notes", "GET"),
        ("DELETE", "/users/1/cdrs.csv", "GET"),
        ("PATCH", "/monitors/1,2", "DELETE, GET"),
        ("GET", "/chatmsgs/1,2", "DELETE"),
        ("TRACE", "/monitors", "DELETE, GET"),
    ],
)
async def test_a_known_path_answers_405_with_its_methods(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow


async def test_405_comes_before_authentication(fake_voipstudio: FakeVoipStudio) -> None:
    async with httpx.AsyncClient(
        transport=fake_voipstudio.transport(), base_url=fake_voipstudio.base_url
    ) as anonymous:
        assert (await anonymous.request("TRACE", "/login")).status_code == 405
        assert (await anonymous.get("/cdrs")).status_code == 401


@pytest.mark.parametrize("value", [10**400, -(10**400), 1e308, "1e400"])
async def test_huge_filter_numbers_compare_instead_of_crashing(
    client: httpx.AsyncClient, value: object
) -> None:
    flt = json.dumps([{"property": "duration", "operator": "lt", "value": value}])
    response = await client.get("/cdrs", params={"filter": flt})
    assert response.status_code == 200, response.text
    negative = isinstance(value, int) and value < 0
    assert (response.json()["total"] == 0) is negative


async def test_a_patch_id_beyond_64_bits_is_not_found_not_invalid(
    client: httpx.AsyncClient,
) -> None:
    body = b'[{"id": 966117090068174286042219571897696256, "folder": "Old"}]'
    response = await client.patch(
        "/voicemessages", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 404
