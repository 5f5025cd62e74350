"""The curated spec covers the reference's 34 operations, and the generated client follows it."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "openapi" / "history.yaml"
# What the tests need of the published reference (its operations, statuses and example
# records), extracted into the repository so that every clone checks it.
FACTS_PATH = ROOT / "openapi" / "reference-facts.yaml"
NOTES_PATH = ROOT / "openapi" / "notes.md"
METHODS = ("get", "post", "put", "patch", "delete")

# The 34 History operations of the reference, as (METHOD, path). The reference writes the
# id-list DELETEs of monitors and voicemessages as `{ids}`; OpenAPI forbids two templates
# that differ only in the parameter name, so the spec shares `{id}` with the item GET.
REFERENCE_OPERATIONS = {
    ("GET", "/chats"),
    ("GET", "/chats/{id}"),
    ("DELETE", "/chatmsgs/{ids}"),
    ("DELETE", "/chatmsgs"),
    ("GET", "/cdrs"),
    ("PATCH", "/cdrs"),
    ("DELETE", "/cdrs"),
    ("GET", "/cdrs/{id}.trace"),
    ("GET", "/cdrs/{id}.pcap"),
    ("GET", "/cdrs/calltracking"),
    ("GET", "/cdrs/{id}"),
    ("GET", "/cdrs/dictionaries"),
    ("GET", "/cdrs/{id}/notes"),
    ("GET", "/monitors/{id}.mp3"),
    ("GET", "/monitors"),
    ("DELETE", "/monitors"),
    ("GET", "/monitors/{id}"),
    ("DELETE", "/monitors/{ids}"),
    ("GET", "/msdrs/{id}.trace"),
    ("GET", "/msdrs/{id}.pcap"),
    ("GET", "/msdrs"),
    ("GET", "/msdrs/{id}"),
    ("GET", "/msdrs/dictionaries"),
    ("DELETE", "/statements"),
    ("GET", "/voicemessages/{id}.mp3"),
    ("GET", "/voicemessages"),
    ("PATCH", "/voicemessages"),
    ("DELETE", "/voicemessages"),
    ("GET", "/voicemessages/{id}"),
    ("DELETE", "/voicemessages/{ids}"),
    ("GET", "/sms/dictionaries"),
    ("GET", "/calltracking/cdrs"),
    ("GET", "/users/{id}/cdrs.csv"),
    ("GET", "/mediasessions/dictionaries"),
}
SHARED_TEMPLATE = {
    "/monitors/{ids}": "/monitors/{id}",
    "/voicemessages/{ids}": "/voicemessages/{id}",
}
OUTSIDE_HISTORY = {("POST", "/login"), ("POST", "/login2fa")}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


@pytest.fixture(scope="module")
def facts() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = yaml.safe_load(FACTS_PATH.read_text(encoding="utf-8"))[
        "operations"
    ]
    return loaded


def test_reference_lists_34_operations(facts: list[dict[str, Any]]) -> None:
    assert len(REFERENCE_OPERATIONS) == 34
    assert {(op["method"], op["path"]) for op in facts} == REFERENCE_OPERATIONS
    assert len(facts) == 34


def test_spec_documents_every_status_the_reference_lists(
    spec: dict[str, Any], facts: list[dict[str, Any]]
) -> None:
    for op in facts:
        path = SHARED_TEMPLATE.get(op["path"], op["path"])
        responses = spec["paths"][path][op["method"].lower()]["responses"]
        assert {str(code) for code in op["statuses"]} <= set(responses), (op["method"], path)


def test_departures_cite_notes_the_repository_holds(spec: dict[str, Any]) -> None:
    description = spec["info"]["description"]
    assert "openapi/notes.md" in description and "shared/reference" not in description
    notes = NOTES_PATH.read_text(encoding="utf-8")
    for topic in ("readOnly", "limit", "v1.2", "call_id", "/calltracking/cdrs", "key order"):
        assert topic in notes, topic


def test_spec_covers_every_reference_operation(spec: dict[str, Any]) -> None:
    in_spec = {(method, path) for method, path, _ in operations(spec)}
    expected = {(m, SHARED_TEMPLATE.get(p, p)) for m, p in REFERENCE_OPERATIONS}
    assert expected | OUTSIDE_HISTORY <= in_spec


def test_operation_ids_unique_snake_case_with_one_tag_summary_and_description(
    spec: dict[str, Any],
) -> None:
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids))
    tag_names = {tag["name"] for tag in spec["tags"]}
    for _, _, op in operations(spec):
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", op["operationId"])
        assert len(op["tags"]) == 1 and op["tags"][0] in tag_names
        assert op["summary"].strip() and op["description"].strip()


def test_no_default_responses_no_sent_defaults_no_content_parameters(
    spec: dict[str, Any],
) -> None:
    params = spec["components"]["parameters"]
    for _, _, op in operations(spec):
        assert "default" not in op["responses"]
        for param in op.get("parameters", []):
            resolved = params[param["$ref"].rsplit("/", 1)[1]] if "$ref" in param else param
            assert "schema" in resolved and "content" not in resolved
            assert "default" not in resolved["schema"]


def test_response_codes_are_permissive_strings_or_integers(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    code_ref = "#/components/schemas/Code"
    assert schemas["Cdr"]["properties"]["type"]["$ref"] == code_ref
    assert schemas["Cdr"]["properties"]["disposition"]["$ref"] == code_ref
    assert schemas["Cdr"]["properties"]["destination"]["$ref"] == code_ref
    assert schemas["Voicemessage"]["properties"]["folder"]["$ref"] == code_ref
    assert schemas["Chat"]["properties"]["state"]["$ref"] == code_ref
    request_only = {"SortDirection"} | {name for name in schemas if name.endswith("SortField")}
    for name, schema in schemas.items():
        if name not in request_only:
            assert "enum" not in yaml.safe_dump(schema), name


DOWNLOADS = {
    "download_monitor_mp3": "audio/mpeg",
    "download_voicemessage_mp3": "audio/mpeg",
    "download_cdr_pcap": "application/vnd.tcpdump.pcap",
    "download_msdr_pcap": "application/vnd.tcpdump.pcap",
    "get_cdr_trace": "text/plain",
    "get_msdr_trace": "text/plain",
    "export_user_cdrs_csv": "text/csv",
}


def test_downloads_declare_binary_or_text_bodies(spec: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, _, op in operations(spec)}
    for op_id, content_type in DOWNLOADS.items():
        content = by_id[op_id]["responses"]["200"]["content"]
        assert list(content) == [content_type]


def test_every_operation_is_a_generated_async_function(spec: dict[str, Any]) -> None:
    for _, _, op in operations(spec):
        module = importlib.import_module(
            f"voipstudio_history_client.api.{op['tags'][0]}.{op['operationId']}"
        )
        assert inspect.iscoroutinefunction(module.asyncio_detailed)
        streams = hasattr(module, "asyncio_stream")
        assert streams == (op["operationId"] in DOWNLOADS), op["operationId"]


def test_every_generated_file_says_it_is_generated() -> None:
    package = ROOT / "generated" / "voipstudio_history_client"
    files = sorted(package.rglob("*.py"))
    assert len(files) > 80
    for path in files:
        assert path.read_text(encoding="utf-8").startswith("# Generated by openapi-python-client")


def reference_example(facts: list[dict[str, Any]], method: str, path: str) -> dict[str, Any]:
    """The first record of the reference's example response for one operation."""
    (op,) = [op for op in facts if (op["method"], op["path"]) == (method, path)]
    record: dict[str, Any] = op["example"]["record"]
    return record


def test_cdrs_calltracking_types_every_field_of_its_reference_example(
    spec: dict[str, Any], facts: list[dict[str, Any]]
) -> None:
    # The /cdrs/calltracking example is a full call record; every field of it is typed
    # (not an undeclared extra) and typed as the Cdr types it.
    record = reference_example(facts, "GET", "/cdrs/calltracking")
    assert len(record) == 29
    declared = spec["components"]["schemas"]["CallTrackingCdr"]["properties"]
    assert set(record) <= set(declared)
    cdr = spec["components"]["schemas"]["Cdr"]["properties"]

    def shape(prop: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in prop:
            prop = spec["components"]["schemas"][prop["$ref"].rsplit("/", 1)[1]]
        return {k: v for k, v in prop.items() if k not in ("description", "readOnly")}

    for name in set(record) - {"id"}:
        assert shape(declared[name]) == shape(cdr[name]), name


def examples(facts: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(op["method"], op["path"], op["example"]) for op in facts if "example" in op]


def test_every_reference_example_matches_the_spec(
    spec: dict[str, Any], facts: list[dict[str, Any]]
) -> None:
    # Each JSON example of the reference is printed from the server's own models, so the
    # spec's 200 schema must accept it as it stands (the departures widen, never narrow).
    assert len(examples(facts)) == 19
    for method, path, example in examples(facts):
        op = spec["paths"][SHARED_TEMPLATE.get(path, path)][method.lower()]
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        record = example["record"]
        body = {"data": [record] if example["shape"] == "list" else record}
        validator = OAS30Validator({**schema, "components": spec["components"]})
        errors = [error.message for error in validator.iter_errors(body)]
        assert errors == [], (method, path, errors[:3])


def test_calltracking_numbers_are_typed_as_the_reference_example_shows(
    spec: dict[str, Any], facts: list[dict[str, Any]]
) -> None:
    # The example of GET /calltracking/cdrs is a tracked number, not a call record: every
    # field of it is declared (so it reaches users typed), and nothing else is.
    record = reference_example(facts, "GET", "/calltracking/cdrs")
    op = spec["paths"]["/calltracking/cdrs"]["get"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schemas = spec["components"]["schemas"]
    items = schemas[ref.rsplit("/", 1)[1]]["properties"]["data"]["items"]["$ref"]
    assert set(schemas[items.rsplit("/", 1)[1]]["properties"]) == set(record)


LIST_OPERATIONS = {
    "list_cdrs": "Cdr",
    "list_cdrs_calltracking": "CallTrackingCdr",
    "list_calltracking_cdrs": "CallTrackingNumber",
    "list_monitors": "Monitor",
    "list_msdrs": "Msdr",
    "list_chats": "Chat",
    "list_voicemessages": "Voicemessage",
    "export_user_cdrs_csv": "Cdr",
}


def query_parameter(spec: dict[str, Any], op: dict[str, Any], name: str) -> dict[str, Any]:
    for param in op["parameters"]:
        if "$ref" in param:
            param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        if param["name"] == name:
            return param  # type: ignore[no-any-return]
    raise AssertionError(name)


@pytest.mark.parametrize(("op_id", "model"), sorted(LIST_OPERATIONS.items()))
def test_filter_and_sort_are_described_per_resource(
    spec: dict[str, Any], op_id: str, model: str
) -> None:
    # A free string let schemathesis send filters and sorts the server rejects.
    (op,) = [op for _, _, op in operations(spec) if op["operationId"] == op_id]
    schemas = spec["components"]["schemas"]
    properties = schemas[model]["properties"]
    sort = query_parameter(spec, op, "sort")["schema"]
    enum = schemas[sort["$ref"].rsplit("/", 1)[1]]["enum"]
    assert enum == [n for n, p in properties.items() if p.get("type") != "array"]
    pattern = re.compile(query_parameter(spec, op, "filter")["schema"]["pattern"])
    # The first alternative of each entry lists every property (for like / eq null).
    first = re.search(r'"property": \?"\(\?:([a-z0-9_|]+)\)"', pattern.pattern)
    assert first is not None
    assert set(first[1].split("|")) == set(properties)
    good = [
        [],
        [{"property": "id", "operator": "gt", "value": 10}],
        [
            {"property": "id", "operator": "lte", "value": "10"},
            {"property": "id", "operator": "eq", "value": None},
        ],
        [{"property": name, "operator": "like", "value": 'Zoë "x"'} for name in properties],
        # Key order carries no meaning in JSON; the vendor's CLI sends the user's order.
        [{"value": 10, "operator": "gt", "property": "id"}],
        [
            {"operator": "eq", "property": "id", "value": None},
            {"value": "a", "property": "id", "operator": "like"},
        ],
    ]
    for conditions in good:
        assert pattern.match(json.dumps(conditions)), conditions
        assert pattern.match(json.dumps(conditions, separators=(",", ":"), ensure_ascii=False))
    bad = [
        "",
        "{}",
        '[{"property":"id","operator":"between","value":1}]',
        '[{"property":"nosuch","operator":"eq","value":1}]',
        '[{"property":"id","operator":"gt","value":null}]',
        '[{"property":"id","operator":"eq","value":[1]}]',
        '[{"property":"id","property":"id","value":1}]',
        '[{"property":"id","operator":"gt","value":1}{"property":"id","operator":"gt","value":1}]',
    ]
    if properties["id"].get("type") == "integer":
        bad += [
            '[{"property":"id","operator":"gt","value":"ten"}]',
            '[{"value":"ten","operator":"gt","property":"id"}]',
        ]
    for raw in bad:
        assert not pattern.match(raw), raw


def test_derived_parts_follow_the_resource_schemas() -> None:
    # `make generate` runs openapi/derive.py; a hand edit of a resource schema without it
    # fails here with the command to run.
    result = subprocess.run(
        [sys.executable, str(ROOT / "openapi" / "derive.py"), "--check", str(SPEC_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_derive_check_names_the_command_when_a_property_is_added(tmp_path: Path) -> None:
    text = SPEC_PATH.read_text(encoding="utf-8")
    properties = text.index("      properties:\n", text.index("x-voipstudio-patch: CdrPatch"))
    at = properties + len("      properties:\n")
    changed = tmp_path / "history.yaml"
    added = "        answered_at:\n          x-voipstudio-date: true\n          type: string\n"
    changed.write_text(text[:at] + added + text[at:], encoding="utf-8")
    derive = [sys.executable, str(ROOT / "openapi" / "derive.py")]
    stale = subprocess.run([*derive, "--check", str(changed)], capture_output=True, text=True)
    assert stale.returncode == 1 and "run `make generate`" in stale.stderr
    subprocess.run([*derive, str(changed)], check=True)
    derived = yaml.safe_load(changed.read_text(encoding="utf-8"))["components"]
    assert "answered_at" in derived["schemas"]["CdrPatch"]["properties"]
    assert "answered_at" in derived["schemas"]["CdrSortField"]["enum"]
    pattern = derived["parameters"]["CdrFilter"]["schema"]["pattern"]
    condition = [{"operator": "lt", "value": "2026-01-31", "property": "answered_at"}]
    assert re.match(pattern, json.dumps(condition))
    condition = [{"operator": "lt", "value": "yesterday", "property": "answered_at"}]
    assert not re.match(pattern, json.dumps(condition))
    assert subprocess.run([*derive, "--check", str(changed)], check=False).returncode == 0


def test_every_date_field_takes_dates_and_only_dates(spec: dict[str, Any]) -> None:
    pattern = re.compile(spec["components"]["parameters"]["CdrFilter"]["schema"]["pattern"])
    for value, ok in [("2026-01-31", True), ("2026-01-31 23:59:59", True), ("2026-13-01", False),
                      ("yesterday", False), (20260131, False)]:  # fmt: skip
        raw = json.dumps([{"property": "calldate", "operator": "gte", "value": value}])
        assert bool(pattern.match(raw)) is ok, value
