"""The loaders' column types come from the spec: a synthetic schema with a property of every
type and format the spec can hold, generated as `make generate` would, gets a column type
for each (an unknown shape loads as JSON with one warning), also after
`attrs.resolve_types`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest
from test_generation import BIN, ROOT, generate

PROBE = """
    Probe:
      type: object
      required: [id]
      properties:
        id: {type: integer}
        i64: {type: integer, format: int64, nullable: true}
        num: {type: number, nullable: true}
        flt: {type: number, format: float}
        text: {type: string, nullable: true}
        when: {type: string, nullable: true, x-voipstudio-date: true}
        stamp: {type: string, format: date-time, nullable: true}
        day: {type: string, format: date}
        uid: {type: string, format: uuid}
        mail: {type: string, format: email}
        raw: {type: string, format: byte}
        flag: {type: boolean, nullable: true}
        code: {$ref: "#/components/schemas/Code"}
        tags: {type: array, items: {type: string}}
        nums: {type: array, nullable: true, items: {type: integer}}
        notes: {type: array, items: {$ref: "#/components/schemas/CdrNote"}}
        extra: {type: object, additionalProperties: true}
        inner: {type: object, properties: {a: {type: integer}}}
        mixed: {anyOf: [{type: integer}, {type: boolean}]}
"""
PATH = """
  /probes:
    get:
      operationId: list_probes
      tags: [cdrs]
      summary: Probe
      description: A synthetic operation for the column test.
      responses:
        "200":
          description: A probe.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Probe"
"""
EXPECTED = {
    "id": "int", "i64": "int", "num": "float", "flt": "float", "text": "text", "when": "date",
    "stamp": "timestamp", "day": "day", "uid": "uuid", "mail": "text", "raw": "text",
    "flag": "bool", "code": "code", "tags": "json", "nums": "json", "notes": "json",
    "extra": "json", "inner": "json", "mixed": "json",
}  # fmt: skip
SAMPLE = {
    "id": 1, "i64": 2**40, "num": 1.5, "flt": 2.0, "text": "t", "when": "2026-05-01 10:00:00",
    "stamp": "2026-05-01T10:00:00+00:00", "day": "2026-05-01",
    "uid": "12345678-1234-5678-1234-567812345678", "mail": "a@example.com", "raw": "YQ==",
    "flag": True, "code": "O", "tags": ["a"], "nums": [1, 2], "notes": [{"id": 3, "note": "n"}],
    "extra": {"k": [1]}, "inner": {"a": 4}, "mixed": True,
}  # fmt: skip
SCRIPT = """
import json, logging, sys
import attrs
from voipstudio_history_client.models import Probe
from voipstudio_async import _fields
from voipstudio_async.warehouse._columns import model_shape

logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="WARNING %(message)s")
sample = json.loads(sys.argv[1])
first = model_shape("probes", Probe, "when")
row = Probe.from_dict(sample)
table = first.to_arrow([tuple(getattr(row, a) for a in first.attributes)])
import voipstudio_history_client.models as models
attrs.resolve_types(Probe, localns=vars(models))  # the nested models are TYPE_CHECKING imports
_fields.json_names.cache_clear()
_fields.field_kinds.cache_clear()
again = model_shape("probes", Probe, "when")
print(json.dumps({
    "kinds": dict(zip(first.fields, first.kinds)),
    "resolved": dict(zip(again.fields, again.kinds)),
    "row": table.to_pylist()[0],
}, default=str))
"""


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    spec = (ROOT / "openapi" / "history.yaml").read_text(encoding="utf-8")
    spec = spec.replace("\npaths:\n", "\npaths:\n" + PATH.lstrip("\n"), 1)
    spec = spec.replace("\n  schemas:\n", "\n  schemas:\n" + PROBE.lstrip("\n"), 1)
    tmp = tmp_path_factory.mktemp("probe")
    (tmp / "history.yaml").write_text(spec, encoding="utf-8")
    package = generate(tmp / "history.yaml", tmp / "gen")
    env = {**os.environ, "PYTHONPATH": f"{package.parent}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(SAMPLE)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


pytestmark = pytest.mark.skipif(shutil.which("ruff", path=str(BIN)) is None, reason="make setup")


def test_every_type_and_format_has_a_column_type(probed: tuple[dict[str, Any], str]) -> None:
    result, _ = probed
    assert result["kinds"] == EXPECTED


def test_column_types_survive_attrs_resolve_types(probed: tuple[dict[str, Any], str]) -> None:
    result, _ = probed
    assert result["resolved"] == result["kinds"]


def test_an_unknown_shape_loads_as_json_with_one_warning(
    probed: tuple[dict[str, Any], str],
) -> None:
    result, stderr = probed
    warnings = [line for line in stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "Probe.mixed" in warnings[0], stderr
    assert result["row"]["mixed"] == "true"


def test_values_of_each_column_type_load(probed: tuple[dict[str, Any], str]) -> None:
    row = probed[0]["row"]
    assert row["when"].startswith("2026-05-01 10:00:00") and row["stamp"] == row["when"]
    assert row["day"] == "2026-05-01"
    assert row["uid"] == SAMPLE["uid"] and row["code"] == "O" and row["i64"] == 2**40
    assert row["tags"] == ["a"] and row["nums"] == [1, 2]  # arrays of scalars: Arrow lists
    assert json.loads(row["notes"]) == [{"id": 3, "note": "n"}]
    assert json.loads(row["extra"]) == {"k": [1]} and json.loads(row["inner"]) == {"a": 4}
