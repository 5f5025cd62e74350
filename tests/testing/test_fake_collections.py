"""Paging, filters, sorting, single items and state changes through the API."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from voipstudio_history_client.models import CallTrackingCdr

from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.testing._data import UNDECLARED


def flt(*triples: tuple[str, str, Any]) -> dict[str, str]:
    return {
        "filter": json.dumps([{"property": p, "operator": o, "value": v} for p, o, v in triples])
    }


async def ids_of(client: httpx.AsyncClient, path: str, **params: Any) -> list[int]:
    response = await client.get(path, params={"limit": 5000, **params})
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["data"]]


def test_same_seed_same_data_and_realistic_values() -> None:
    a, b = FakeVoipStudio(seed=7, cdrs=50), FakeVoipStudio(seed=7, cdrs=50)
    assert a.records("cdrs") == b.records("cdrs")
    assert a.credentials == b.credentials
    assert FakeVoipStudio(seed=8, cdrs=50).records("cdrs") != a.records("cdrs")
    rows = FakeVoipStudio(seed=0, cdrs=2000).records("cdrs")
    assert {r["type"] for r in rows} == {"O", "I", "M"}
    assert {r["disposition"] for r in rows} == {"ANSWERED", "NO ANSWER", "BUSY", "FAILED"}
    assert all(r["src"].startswith("+") and r["dst"][1:].isdigit() for r in rows)
    dates = [r["calldate"] for r in rows]
    assert dates == sorted(dates)
    assert dates[0][:7] < "2026-06" and dates[-1][:7] == "2026-10"
    assert all(r["billsec"] <= r["duration"] for r in rows)


async def test_pages_cover_the_collection_with_stable_totals(client: httpx.AsyncClient) -> None:
    seen: list[int] = []
    for page in (1, 2, 3):
        body = (await client.get("/cdrs", params={"page": page, "limit": 100})).json()
        assert body["total"] == 250
        seen += [row["id"] for row in body["data"]]
    assert seen == list(range(1, 251))
    beyond = (await client.get("/cdrs", params={"page": 4, "limit": 100})).json()
    assert beyond == {"data": [], "total": 250}
    assert len((await client.get("/cdrs")).json()["data"]) == 100  # default limit
    assert len(await ids_of(client, "/cdrs", limit=5000)) == 250


async def test_a_limit_above_the_documented_maximum_is_clamped(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient
) -> None:
    # A third-party client asks for 10000 and works against the live API (notes §6).
    fake_voipstudio.insert("cdrs", 5000)
    body = (await client.get("/cdrs", params={"limit": 10000})).json()
    assert len(body["data"]) == 5000 and body["total"] > 5000


@pytest.mark.parametrize("version", ["v1.1", "v1.2"])
async def test_both_api_versions_are_served(fake_voipstudio: FakeVoipStudio, version: str) -> None:
    # The vendor's CLI and a third-party tap use /v1.2/voipstudio (notes §7).
    creds = fake_voipstudio.credentials
    base_url = fake_voipstudio.base_url.replace("/v1.1/", f"/{version}/")
    assert f"/{version}/voipstudio" in base_url
    async with httpx.AsyncClient(
        transport=fake_voipstudio.transport(),
        base_url=base_url,
        auth=(str(creds.user_id), creds.api_key),
    ) as http:
        response = await http.get("/cdrs", params={"limit": 3})
    assert response.status_code == 200 and len(response.json()["data"]) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"sort": "nope"}, "sort"),
        ({"sort": "labels"}, "sort"),
        ({"dir": "UP"}, "dir"),
    ],
)
async def test_bad_paging_and_sorting_is_400(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/cdrs", params=params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["message"]


@pytest.mark.parametrize(
    ("triple", "expected"),
    [
        (("disposition", "eq", "ANSWERED"), lambda r: r["disposition"] == "ANSWERED"),
        (("disposition", "eq", "answered"), lambda r: r["disposition"] == "ANSWERED"),
        (("type", "eq", "M"), lambda r: r["type"] == "M"),
        (("duration", "eq", "60"), lambda r: r["duration"] == 60),
        (("src", "like", "+44"), lambda r: "+44" in r["src"]),
        (("clid", "like", "%smith%"), lambda r: "smith" in r["clid"].lower()),
        (("dst", "like", "+1%"), lambda r: r["dst"].startswith("+1")),
        (("duration", "gt", 60), lambda r: r["duration"] > 60),
        (("duration", "gte", 60), lambda r: r["duration"] >= 60),
        (("duration", "lt", 60), lambda r: r["duration"] < 60),
        (("duration", "lte", 60), lambda r: r["duration"] <= 60),
        (("charge", "gt", 0.5), lambda r: r["charge"] > 0.5),
        (("calldate", "gte", "2026-09-01"), lambda r: r["calldate"] >= "2026-09-01 00:00:00"),
        (
            ("calldate", "lt", "2026-06-01 12:00:00"),
            lambda r: r["calldate"] < "2026-06-01 12:00:00",
        ),
        (("labels", "eq", "vip"), lambda r: "vip" in r["labels"]),
        (("parent_live_id", "eq", None), lambda r: r["parent_live_id"] is None),
    ],
)
async def test_every_operator_filters_like_the_api(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient, triple: Any, expected: Any
) -> None:
    want = [r["id"] for r in fake_voipstudio.records("cdrs") if expected(r)]
    assert want, "the data set should exercise the filter"
    assert await ids_of(client, "/cdrs", **flt(triple)) == want


async def test_filters_combine_with_and(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient
) -> None:
    got = await ids_of(
        client,
        "/cdrs",
        **flt(("type", "eq", "O"), ("duration", "gte", 30), ("duration", "lte", 300)),
    )
    rows = fake_voipstudio.records("cdrs")
    assert got == [r["id"] for r in rows if r["type"] == "O" and 30 <= r["duration"] <= 300]
    body = (await client.get("/cdrs", params={"limit": 5, **flt(("type", "eq", "O"))})).json()
    assert body["total"] == sum(r["type"] == "O" for r in rows)


@pytest.mark.parametrize(
    "raw",
    [
        '[{"property":"duration","operator":"between","value":[1,2]}]',
        '[{"property":"duration","operator":"neq","value":1}]',
        '[{"property":"nope","operator":"eq","value":1}]',
        '[{"property":"duration","operator":"gt","value":{"a":1}}]',
        '[{"property":"duration","operator":"gt","value":"many"}]',
        '[{"property":"calldate","operator":"gt","value":"yesterday"}]',
        '[{"property":"duration","value":1}]',
        '{"property":"duration","operator":"eq","value":1}',
        "[{",
        "duration>1",
    ],
)
async def test_bad_filters_are_400_with_field_errors(client: httpx.AsyncClient, raw: str) -> None:
    response = await client.get("/cdrs", params={"filter": raw})
    assert response.status_code == 400
    body = response.json()
    assert body["message"]
    assert body["errors"][0]["message"]
    if "nope" in raw:
        assert body == {
            "message": "Filtration error",
            "errors": [{"field": "nope", "message": "Unknown property."}],
        }


@pytest.mark.parametrize(
    ("sort", "direction"), [("duration", "DESC"), ("calldate", "ASC"), ("src", "DESC")]
)
async def test_sorting(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient, sort: str, direction: str
) -> None:
    body = (
        await client.get("/cdrs", params={"sort": sort, "dir": direction, "limit": 5000})
    ).json()
    values = [row[sort] for row in body["data"]]
    assert values == sorted(values, reverse=direction == "DESC")
    assert len(values) == fake_voipstudio.count("cdrs")
    newest = await ids_of(client, "/cdrs", dir="DESC")
    assert newest == list(range(250, 0, -1))


async def test_single_items_and_404(client: httpx.AsyncClient) -> None:
    body = (await client.get("/monitors/3")).json()
    assert body["links"] == {}
    assert body["data"]["id"] == 3
    missing = await client.get("/monitors/9999")
    assert missing.status_code == 404
    assert missing.json()["message"] == "Resource not found"
    assert (await client.get("/cdrs/abc")).status_code == 404
    assert (await client.put("/cdrs")).status_code == 405


async def test_patch_cdrs_changes_state_atomically(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient
) -> None:
    # Read first, so the item and the page are cached: a write must invalidate both.
    assert (await client.get("/cdrs/5")).json()["data"]["info"] != "called back"
    assert 5 not in await ids_of(client, "/cdrs", **flt(("info", "like", "back")))
    one = await client.patch("/cdrs", json=[{"id": 5, "labels": ["vip"], "info": "called back"}])
    assert one.status_code == 200
    assert one.json()["data"]["labels"] == ["vip"]
    assert (await client.get("/cdrs/5")).json()["data"]["info"] == "called back"
    assert 5 in await ids_of(client, "/cdrs", **flt(("info", "like", "back")))
    two = await client.patch("/cdrs", json=[{"id": 6, "metadata": "m"}, {"id": 7, "metadata": "n"}])
    assert [row["metadata"] for row in two.json()["data"]] == ["m", "n"]

    before = fake_voipstudio.get("cdrs", 8)
    missing = await client.patch(
        "/cdrs", json=[{"id": 8, "info": "x"}, {"id": 99_999, "info": "x"}]
    )
    assert missing.status_code == 404
    assert fake_voipstudio.get("cdrs", 8) == before
    for bad in (
        [],
        {"id": 8},
        [{"info": "x"}],
        [{"id": 8, "duration": "long"}],
        [{"id": 8, "nosuch": 1}],
        [{"id": 8, "labels": [1]}],
    ):
        assert (await client.patch("/cdrs", json=bad)).status_code == 400
    assert (await client.patch("/cdrs", content=b"{nope")).status_code == 400
    assert fake_voipstudio.get("cdrs", 8) == before


async def test_patch_voicemessages_moves_folders(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        "/voicemessages", json=[{"id": 1, "folder": "Work"}, {"id": 2, "folder": "Work"}]
    )
    assert response.status_code == 200
    assert {1, 2} <= set(await ids_of(client, "/voicemessages", **flt(("folder", "eq", "Work"))))
    assert (
        await client.patch("/voicemessages", json=[{"id": 1, "folder": "x", "is_new": False}])
    ).status_code == 400


async def test_delete_by_ids_is_all_or_nothing(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/monitors/2")).status_code == 200  # cached, then deleted
    assert (await client.delete("/monitors/1,2,3")).status_code == 204
    assert fake_voipstudio.count("monitors") == 17
    assert (await client.get("/monitors/2")).status_code == 404
    assert (await client.delete("/monitors/4,2")).status_code == 404
    assert fake_voipstudio.get("monitors", 4) is not None
    assert (await client.delete("/voicemessages/5")).status_code == 204
    assert (await client.delete("/voicemessages/x,y")).status_code == 404
    assert (await client.delete("/chatmsgs/1,2")).status_code == 204
    assert fake_voipstudio.ids("chatmsgs")[:2] == [3, 4]
    assert (await client.delete("/chatmsgs/3,1")).status_code == 404
    assert 3 in fake_voipstudio.ids("chatmsgs")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/cdrs", 204),
        ("/monitors", 202),
        ("/voicemessages", 202),
        ("/chatmsgs", 204),
        ("/statements", 204),
    ],
)
async def test_collection_deletes(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient, path: str, status: int
) -> None:
    assert fake_voipstudio.count(path[1:]) > 0
    response = await client.delete(path)
    assert response.status_code == status
    assert response.content == b""
    assert fake_voipstudio.count(path[1:]) == 0


async def test_live_inserts_and_deletes_during_a_walk(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient
) -> None:
    pages: list[dict[str, Any]] = []

    def churn(method: str, path: str) -> None:
        if path == "/cdrs" and pages:
            fake_voipstudio.insert_cdrs(10)
            fake_voipstudio.delete_cdrs(fake_voipstudio.ids("cdrs")[:1])

    unsubscribe = fake_voipstudio.on_request(churn)
    for page in (1, 2, 3):
        pages.append((await client.get("/cdrs", params={"page": page, "limit": 100})).json())
    unsubscribe()
    assert [p["total"] for p in pages] == [250, 259, 268]
    # Deleting id 1 shifted the window: page 2 starts one row later than it would have.
    assert pages[1]["data"][0]["id"] == 102
    new = await ids_of(client, "/cdrs", sort="calldate", dir="DESC", limit=20)
    assert set(range(251, 271)) <= set(new)  # inserts are the newest calls
    assert fake_voipstudio.insert("monitors", 2, size=10) == [21, 22]
    assert fake_voipstudio.get("monitors", 22)["size"] == 10  # type: ignore[index]


async def test_call_tracking_dictionaries_notes_and_csv(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient
) -> None:
    calls = (await client.get("/cdrs/calltracking")).json()
    assert calls["total"] == 12 and "calldate" in calls["data"][0]
    # /calltracking/cdrs lists the tracked numbers, as the reference's example shows.
    numbers = (await client.get("/calltracking/cdrs")).json()
    assert numbers["data"] and all(
        "e164" in row and "calldate" not in row for row in numbers["data"]
    )
    assert (await client.get("/cdrs/dictionaries")).json()["data"]["type"]["M"] == "Missed"
    noted = next(r for r in fake_voipstudio.records("cdrs") if r["nb_notes"])
    notes = (await client.get(f"/cdrs/{noted['id']}/notes")).json()["data"]
    assert len(notes) == noted["nb_notes"]
    user = fake_voipstudio.credentials.user_id
    csv = await client.get(f"/users/{user}/cdrs.csv", params=flt(("type", "eq", "I")))
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("id,billsec,call_id,calldate")
    mine = [r for r in fake_voipstudio.records("cdrs") if r["user_id"] == user and r["type"] == "I"]
    assert [int(line.split(",")[0]) for line in lines[1:]] == [r["id"] for r in mine]


async def test_call_tracking_records_are_full_typed_call_records(
    fake_voipstudio: FakeVoipStudio, client: httpx.AsyncClient
) -> None:
    # The reference's /cdrs/calltracking example is a full Cdr; the fake serves that
    # shape, and the generated model types every field (nothing left as an extra).
    page = (await client.get("/cdrs/calltracking")).json()
    for row in page["data"]:
        assert set(row) >= CALL_FIELDS_ONCE_UNTYPED
        model = CallTrackingCdr.from_dict(row)
        # Only the fields the spec does not declare (served on purpose) stay extras.
        assert set(model.additional_properties) == {name for name, _ in UNDECLARED["calltracking"]}
        assert model.to_dict() == row
    assert any(r["parent_live_id"] is not None for r in fake_voipstudio.records("calltracking"))


CALL_FIELDS_ONCE_UNTYPED = {
    "context", "dst_codec", "dst_id", "dst_name", "dst_ua", "info", "live_id", "parent_live_id",
    "rate", "server_id", "sip_endpoint_id", "src_codec", "src_id", "src_name", "src_ua", "t_cause",
}  # fmt: skip
