"""Regeneration over the space of spec changes, each in a scratch copy of the spec.

A fixed table (one change per kind) runs in `make test`, batched into one regeneration:
a Cdr field of each type and format, and an operation of each response shape. Fields are
absorbed (the fake serves them with the other fields' seeded data unchanged, the CLI
exports them, the loaders give them a column, the fast item builder builds them or the
failure names the field and what to do); operations are named (the coverage check says
which facade method to add); nothing of it is a public break. Breaks (a type change, a
rename, a removal) are named by api-check: tests/test_api_check.py. `make
test-regeneration` draws random combinations of all of these with hypothesis.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_generation import BIN, ROOT, generate

SPEC = ROOT / "openapi" / "history.yaml"
COVERAGE = ROOT / "tests" / "_coverage.py"
pytestmark = pytest.mark.skipif(shutil.which("ruff", path=str(BIN)) is None, reason="make setup")


@dataclass(frozen=True)
class Field:
    """A property added to the Cdr schema: its YAML body and the column type it loads as."""

    name: str
    body: str
    column: str
    fast: bool  # whether the walks' fast item builder builds it


FIELDS = (
    Field("answered_at", "type: string\nnullable: true\nx-voipstudio-date: true", "date", True),
    Field("queue_position", "type: integer\nnullable: true", "int", True),
    Field("score", "type: number\nnullable: true", "float", True),
    Field("is_vip", "type: boolean\nnullable: true", "bool", True),
    Field("queue", "type: string\nnullable: true", "text", True),
    Field("tag_ids", "type: array\nnullable: true\nitems: {type: integer}", "json", True),
    Field("routing", "type: object\nnullable: true\nadditionalProperties: true", "json", False),
    Field("ended_at", "type: string\nformat: date-time\nnullable: true", "timestamp", False),
)


@dataclass(frozen=True)
class Operation:
    """A GET operation added under /probes with one response shape."""

    name: str
    content: str  # the 200 response's content, YAML


_JSON = "application/json:\n  schema: "
SHAPES = (
    Operation("get_probe_object", _JSON + "{$ref: '#/components/schemas/CdrItem'}"),
    Operation("list_probe_objects", _JSON + "{$ref: '#/components/schemas/CdrList'}"),
    Operation(
        "list_probe_names",
        _JSON + "{type: object, properties: {data: {type: array, items: {type: string}}}}",
    ),
    Operation("get_probe_text", "text/plain:\n  schema: {type: string}"),
    Operation(
        "get_probe_binary", "application/octet-stream:\n  schema: {type: string, format: binary}"
    ),
)


def _indent(text: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in text.splitlines())


# Breaking changes of a Cdr property: (kind, the property, its new YAML or None to remove
# it, its new name). `type` keeps the fake's data valid: its values are strings.
BREAKS = {
    "type change": ("type", "type: string\nnullable: true", "type"),
    "rename": ("dst_codec", "type: string\nnullable: true", "dst_codec_name"),
    "removal": ("src_codec", None, "src_codec"),
}


def _break(text: str, kind: str) -> str:
    name, body, new_name = BREAKS[kind]
    start = text.index(f"\n        {name}:\n", text.index("\n    Cdr:\n")) + 1
    end = start + len(f"        {name}:\n")
    while text[end:].startswith("          "):
        end = text.index("\n", end) + 1
    replacement = "" if body is None else f"        {new_name}:\n" + _indent(body, 10)
    return text[:start] + replacement + text[end:]


def changed_spec(
    fields: tuple[Field, ...], operations: tuple[Operation, ...], breaking: str | None = None
) -> str:
    """The spec with ``fields`` added to Cdr, ``operations`` added under /probes, and one
    breaking change of a Cdr property."""
    text = SPEC.read_text(encoding="utf-8")
    if breaking is not None:
        text = _break(text, breaking)
    at = text.index("      properties:\n", text.index("\n    Cdr:\n")) + len("      properties:\n")
    added = "".join(f"        {f.name}:\n" + _indent(f.body, 10) for f in fields)
    text = text[:at] + added + text[at:]
    paths = "".join(
        f"  /probes/{op.name}:\n    get:\n      operationId: {op.name}\n      tags: [cdrs]\n"
        f"      summary: Probe {op.name}\n      description: A response shape.\n"
        '      responses:\n        "200":\n          description: The answer.\n'
        "          content:\n" + _indent(op.content, 12)
        for op in operations
    )
    return text.replace("\npaths:\n", "\npaths:\n" + paths, 1)


def child_env(package: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{package.parent}{os.pathsep}{ROOT}{os.pathsep}{ROOT / 'tests'}",
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False, cwd=ROOT)


# What a user meets after regenerating: the fake's rows, the CLI's columns, the loaders'
# columns over those rows, and whether the walks' fast builder builds Cdr.
CHILD = """
import json, logging, sys
from voipstudio_history_client.models import Cdr
from voipstudio_async._request.decode import _make_builder
from voipstudio_async.cli._export import CSV_COLUMNS
from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.warehouse._columns import shape

added = json.loads(sys.argv[1])
rows = FakeVoipStudio(seed=4, cdrs=60).records("cdrs")
table = shape("cdrs")
models = [Cdr.from_dict(row) for row in rows]
arrow = table.to_arrow([tuple(getattr(m, a) for a in table.attributes) for m in models])
records = logging.getLogger("voipstudio_async")
records.setLevel(logging.DEBUG)
handler = logging.Handler()
seen = []
handler.emit = lambda record: seen.append(record.getMessage())
records.addHandler(handler)
print(json.dumps({
    "rest": [{k: v for k, v in row.items() if k not in added} for row in rows],
    "served": {name: [row.get(name) for row in rows[:5]] for name in added},
    "csv": [name for name in added if name in CSV_COLUMNS],
    "columns": {f: k for f, k in zip(table.fields, table.kinds) if f in added},
    "loaded": arrow.num_rows,
    "fast": _make_builder(Cdr) is not None,
    "debug": seen,
}, default=str))
"""


# `voipstudio sync` into DuckDB with the regenerated package: the new columns' types there.
SYNC = """
import json, sys
import duckdb
from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.warehouse import parse_destination, sync

added, folder = json.loads(sys.argv[1]), sys.argv[2]
fake = FakeVoipStudio(seed=4, cdrs=60)
creds = fake.credentials
report = sync(
    parse_destination(f"duckdb:///{folder}/history.duckdb"),
    client_factory=lambda: VoipStudio(
        creds.user_id, creds.api_key, base_url=fake.base_url, transport=fake.transport()
    ),
    resources=["cdrs"],
    pipelines_dir=f"{folder}/pipelines",
)
with duckdb.connect(f"{folder}/history.duckdb", read_only=True) as con:
    types = dict(con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'voipstudio' and table_name = 'cdrs'"
    ).fetchall())
    filled = {
        name: con.execute(f'select count("{name}") from voipstudio.cdrs').fetchone()[0]
        for name in added
    }
print(json.dumps({"new": report.tables["cdrs"].new, "types": types, "filled": filled}))
"""


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("regen")
    spec = tmp / "history.yaml"
    spec.write_text(changed_spec(FIELDS, SHAPES), encoding="utf-8")
    return spec, generate(spec, tmp / "gen")


@pytest.fixture(scope="module")
def after(regenerated: tuple[Path, Path]) -> dict[str, Any]:
    _, package = regenerated
    added = json.dumps([f.name for f in FIELDS])
    done = run([sys.executable, "-c", CHILD, added], child_env(package))
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_test_modules_that_read_the_generated_package_still_collect(
    regenerated: tuple[Path, Path],
) -> None:
    _, package = regenerated
    modules = ["tests/test_fast_builder.py", "tests/test_sort_fields.py", "tests/test_spec.py",
               "tests/test_operations.py", "tests/testing/test_fake_from_spec.py"]  # fmt: skip
    done = run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *modules,
        ],
        child_env(package),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_each_new_operation_is_named_with_what_to_add(regenerated: tuple[Path, Path]) -> None:
    spec, package = regenerated
    done = run([sys.executable, str(COVERAGE), str(spec)], child_env(package))
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    for op in SHAPES:
        (line,) = [line for line in lines if line.startswith(f"operation {op.name} ")]
        assert f"@calls(operation({op.name}))" in line and "NOT_IN_FACADE" in line


def test_new_fields_are_served_with_the_seeded_data_unchanged(after: dict[str, Any]) -> None:
    from voipstudio_async.testing import FakeVoipStudio

    before = FakeVoipStudio(seed=4, cdrs=60).records("cdrs")
    assert after["rest"] == json.loads(json.dumps(before, default=str))
    for field in FIELDS:
        assert any(value is not None for value in after["served"][field.name]), field.name


def test_new_fields_are_exported_and_loaded_with_their_column_types(
    after: dict[str, Any],
) -> None:
    assert after["csv"] == [f.name for f in FIELDS]
    assert after["columns"] == {f.name: f.column for f in FIELDS}
    assert after["loaded"] == 60


def test_the_fast_builder_builds_the_fields_or_names_the_one_it_cannot(
    after: dict[str, Any],
) -> None:
    unsupported = [f.name for f in FIELDS if not f.fast]
    assert after["fast"] is False
    (off,) = [line for line in after["debug"] if "fast builder off for Cdr" in line]
    assert any(name in off for name in unsupported), off


def test_added_fields_and_operations_are_no_public_break(regenerated: tuple[Path, Path]) -> None:
    from test_api_check import api_check

    _, package = regenerated
    old = api_check.load_snapshot(api_check.SNAPSHOT.read_text(encoding="utf-8"))
    now = {str(b) for b in api_check.breakages(old, api_check.load_current())}
    changed = {
        str(b) for b in api_check.breakages(old, api_check.load_current((ROOT, package.parent)))
    }
    assert changed == now


EXAMPLES = int(os.environ.get("VOIPSTUDIO_REGENERATION_EXAMPLES", "0"))


@pytest.mark.skipif(EXAMPLES == 0, reason="random combinations run in make test-regeneration")
@settings(
    max_examples=max(EXAMPLES, 1),
    deadline=None,
    database=None,
    # Each example regenerates (20-50 s): a failure is reported as drawn, not shrunk.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.lists(st.sampled_from(FIELDS), unique=True, max_size=4).map(tuple),
    operations=st.lists(st.sampled_from(SHAPES), unique=True, max_size=3).map(tuple),
    breaking=st.none() | st.sampled_from(sorted(BREAKS)),
)
def test_random_combinations_are_absorbed_or_named(
    tmp_path_factory: pytest.TempPathFactory,
    fields: tuple[Field, ...],
    operations: tuple[Operation, ...],
    breaking: str | None,
) -> None:
    from test_api_check import api_check

    tmp = tmp_path_factory.mktemp("random")
    spec = tmp / "history.yaml"
    spec.write_text(changed_spec(fields, operations, breaking), encoding="utf-8")
    package = generate(spec, tmp / "gen")
    env = child_env(package)
    # Operations are named, with what to add; with none added, coverage passes.
    coverage = run([sys.executable, str(COVERAGE), str(spec)], env)
    assert coverage.returncode == (1 if operations else 0), coverage.stdout + coverage.stderr
    for op in operations:
        assert f"operation {op.name} " in coverage.stdout
    # Fields are absorbed: served with the seeded data unchanged, exported, loaded.
    renamed = [BREAKS[breaking][2]] if breaking == "rename" else []
    added = [f.name for f in fields] + renamed
    done = run([sys.executable, "-c", CHILD, json.dumps(added)], env)
    assert done.returncode == 0, done.stderr
    after = json.loads(done.stdout)
    from voipstudio_async.testing import FakeVoipStudio

    before = json.loads(json.dumps(FakeVoipStudio(seed=4, cdrs=60).records("cdrs"), default=str))
    assert after["rest"] == [{k: v for k, v in row.items() if k not in added} for row in before]
    assert after["csv"] == added
    assert after["columns"] == {f.name: f.column for f in fields} | dict.fromkeys(renamed, "text")
    assert after["fast"] is all(f.fast for f in fields)
    # A break is named by api-check; without one, nothing new is.
    old = api_check.load_snapshot(api_check.SNAPSHOT.read_text(encoding="utf-8"))
    now = {str(b) for b in api_check.breakages(old, api_check.load_current())}
    new = {
        b.path
        for b in api_check.breakages(old, api_check.load_current((ROOT, package.parent)))
        if str(b) not in now
    }
    cdr = "voipstudio_history_client.models.cdr.Cdr"
    expected = {"type change": f"{cdr}.type_", "rename": f"{cdr}.dst_codec",
                "removal": f"{cdr}.src_codec"}  # fmt: skip
    assert (expected[breaking] in new) if breaking else not new, new


def test_sync_loads_the_new_fields_into_duckdb(
    regenerated: tuple[Path, Path], tmp_path: Path
) -> None:
    _, package = regenerated
    added = [f.name for f in FIELDS]
    done = run([sys.executable, "-c", SYNC, json.dumps(added), str(tmp_path)], child_env(package))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["new"] == 60
    expected = {"date": "TIMESTAMP WITH TIME ZONE", "timestamp": "TIMESTAMP WITH TIME ZONE",
                "int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "text": "VARCHAR",
                "json": "JSON"}  # fmt: skip
    assert {f.name: result["types"].get(f.name) for f in FIELDS} == {
        f.name: expected[f.column] for f in FIELDS
    }
    assert all(count > 0 for count in result["filled"].values()), result["filled"]
