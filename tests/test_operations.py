"""Every operation of the spec is sent by a facade method (or listed with a reason), and
README's table of operations says which, as the ``@calls`` declarations do."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _coverage import NOT_IN_FACADE, by_operation, facade_methods, problems, spec_operations
from test_generation import BIN, generate

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "history.yaml"
COVERAGE = Path(__file__).with_name("_coverage.py")


def test_every_operation_is_sent_by_a_facade_method_or_has_a_reason() -> None:
    assert problems(SPEC) == []
    assert set(NOT_IN_FACADE) <= set(spec_operations(SPEC))


def readme_operations_table() -> dict[tuple[str, str], set[str]]:
    """README's table: (METHOD, path) -> the ``vs.`` methods its row names."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Operations\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[tuple[str, str], set[str]] = {}
    for line in section.splitlines():
        match = re.match(r"\| `(GET|POST|PATCH|DELETE) (\S+)` \| (.*?) \|", line)
        if match:
            key = (match.group(1), match.group(2))
            assert key not in rows, f"README lists {key} twice"
            rows[key] = set(re.findall(r"`(vs\.[\w.]+)\(", match.group(3)))
    return rows


def test_readme_table_of_operations_matches_the_declarations() -> None:
    operations = spec_operations(SPEC)
    callers = by_operation(facade_methods())
    expected = {
        operations[op_id]: set(methods)
        for op_id, methods in callers.items()
        if op_id not in NOT_IN_FACADE
    }
    table = readme_operations_table()
    assert table == expected, (
        "README.md's '## Operations' table must list, for each operation, exactly the"
        " facade methods whose @calls names it"
    )


# The self-test adds an operation the spec does not have yet (so a real operation of
# that name never breaks it), then the facade method that covers it.
_TAGS_OPERATION = """\
  /cdrs/{id}/tags:
    get:
      operationId: get_cdr_tags
      tags: [cdrs]
      summary: A CDR's tags
      description: The tags of a CDR, as text.
      parameters:
        - $ref: "#/components/parameters/CdrId"
      responses:
        "200":
          description: The tags.
          content:
            text/plain:
              schema:
                type: string
"""

_TAGS_METHOD = '''
    @calls(_GET_CDR_TAGS)
    async def tags(self, id: int, *, timeout: TimeoutArg = NOT_GIVEN) -> str:
        """A CDR's tags."""
        return await self._get_text(_GET_CDR_TAGS, check_id(id), timeout=timeout)
'''


def _coverage_run(spec: Path, *path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in path)}
    return subprocess.run(
        [sys.executable, str(COVERAGE), str(spec)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.mark.skipif(shutil.which("ruff", path=str(BIN)) is None, reason="needs make setup")
def test_a_new_operation_fails_naming_it_until_a_facade_method_sends_it(tmp_path: Path) -> None:
    spec = SPEC.read_text(encoding="utf-8")
    assert "  /cdrs/{id}/notes:\n" in spec and "#/components/parameters/CdrId" in spec
    suffix = next(f"probe{n}" for n in itertools.count() if f"/cdrs/{{id}}/probe{n}:" not in spec)
    name = f"get_cdr_{suffix}"
    changed = tmp_path / "gen" / "history.yaml"
    changed.parent.mkdir()
    operation_yaml = _TAGS_OPERATION.replace("/cdrs/{id}/tags:", f"/cdrs/{{id}}/{suffix}:")
    operation_yaml = operation_yaml.replace("get_cdr_tags", name)
    changed.write_text(
        spec.replace("  /cdrs/{id}/notes:\n", operation_yaml + "  /cdrs/{id}/notes:\n", 1)
    )
    generated = generate(changed, tmp_path / "gen").parent

    failing = _coverage_run(changed, generated)
    assert failing.returncode == 1, failing.stderr
    assert failing.stderr == ""
    assert failing.stdout.splitlines() == [
        f"operation {name} (GET /cdrs/{{id}}/{suffix}) is sent by no facade method: add a"
        " method to the resource in voipstudio_async/resources/ decorated"
        f" @calls(operation({name})), or list it in NOT_IN_FACADE (tests/_coverage.py)"
        " with the reason"
    ]

    # The few lines a maintainer adds: the import, the operation, the method.
    facade = tmp_path / "facade"
    shutil.copytree(ROOT / "voipstudio_async", facade / "voipstudio_async")
    cdrs = facade / "voipstudio_async" / "resources" / "cdrs.py"
    source = cdrs.read_text(encoding="utf-8")
    source = source.replace("    get_cdr_notes,\n", f"    get_cdr_notes,\n    {name},\n", 1)
    source = source.replace(
        "_GET_CDR_NOTES = operation(get_cdr_notes)\n",
        f"_GET_CDR_NOTES = operation(get_cdr_notes)\n_GET_CDR_TAGS = operation({name})\n",
        1,
    )
    source = source.replace(
        "    @calls(_GET_CDR_TRACE)\n",
        _TAGS_METHOD.replace("def tags(", f"def {suffix}(").lstrip("\n")
        + "\n    @calls(_GET_CDR_TRACE)\n",
        1,
    )
    cdrs.write_text(source, encoding="utf-8")
    passing = _coverage_run(changed, generated, facade)
    assert passing.returncode == 0, passing.stdout + passing.stderr
