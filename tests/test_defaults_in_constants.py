"""The walk defaults named in issue 20 item 5 live in ``_constants`` (the modules that use
them import them from there)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from voipstudio_async import _constants, _pagination
from voipstudio_async._request import decode as _decode

MOVED = ("MAX_PAGE_SIZE", "PREFETCH_PAGES", "YIELD_EVERY")


@pytest.mark.parametrize("module", [_pagination, _decode], ids=lambda m: m.__name__)
def test_the_walk_defaults_are_not_bound_outside_the_constants(module: object) -> None:
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text())
    bound = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    assert bound.isdisjoint(MOVED)


def test_the_walk_defaults_are_the_constants() -> None:
    assert _pagination.MAX_PAGE_SIZE is _constants.MAX_PAGE_SIZE == 5000
    assert _pagination.PREFETCH_PAGES is _constants.PREFETCH_PAGES == 2
    assert _decode.YIELD_EVERY is _constants.YIELD_EVERY == 500


# Modules whose defaults other work of this wave is still moving (issue 20 item 5 is done
# for them when they leave this list): none left.
_NOT_YET: tuple[str, ...] = ()
PACKAGE = Path(str(_constants.__file__)).parent
SDK_MODULES = sorted(
    path.relative_to(PACKAGE).as_posix()
    for path in PACKAGE.rglob("*.py")
    if path.name != "_constants.py"
    and not path.relative_to(PACKAGE).as_posix().startswith(("cli/", "testing/", *_NOT_YET))
)


def _is_numeric(node: ast.expr) -> bool:
    """A number written in place: a literal, arithmetic on literals, a ``timedelta(...)``."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp):
        return _is_numeric(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_numeric(node.left) and _is_numeric(node.right)
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "timedelta":
        return all(_is_numeric(k.value) for k in node.keywords) and all(
            _is_numeric(a) for a in node.args
        )
    return False


def numeric_bindings(source: str) -> list[str]:
    """Module-level names bound to a number written in place."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if _is_numeric(node.value):
                found += [t.id for t in targets if isinstance(t, ast.Name)]
    return found


@pytest.mark.parametrize("module", SDK_MODULES)
def test_no_sdk_module_binds_a_numeric_default_of_its_own(module: str) -> None:
    assert numeric_bindings((PACKAGE / module).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("_LIMIT = 10", ["_LIMIT"]),
        ("LIMIT: Final = 64 * 1024", ["LIMIT"]),
        ("_FLOOR = -0.5", ["_FLOOR"]),
        ("WAIT = timedelta(days=7)", ["WAIT"]),
        ("FLAG = True\nNAME = 'x'\nMASK = os.O_RDONLY | 1\nT = TypeVar('T')", []),
        ("from ._constants import LIMIT\nlimit = LIMIT", []),
    ],
)
def test_the_scan_finds_numbers_written_in_place(source: str, names: list[str]) -> None:
    assert numeric_bindings(source) == names


def test_the_moved_defaults_are_the_constants() -> None:
    from voipstudio_async import _bulk, _errors, _parts
    from voipstudio_async.fleet import _run, _task
    from voipstudio_async.warehouse import DEFAULT_LOOKBACK

    assert _bulk.MAX_LISTED_PROBLEMS is _constants.MAX_LISTED_PROBLEMS
    assert _errors.MAX_TEXT_BODY is _constants.MAX_TEXT_BODY
    assert _decode.MAX_PARSERS is _constants.MAX_PARSERS
    assert _parts.PART_FILE_MODE is _constants.PART_FILE_MODE
    assert DEFAULT_LOOKBACK is _constants.DEFAULT_LOOKBACK
    assert _run.FLEET_WAIT_POLL is _constants.FLEET_WAIT_POLL
    assert _task.FLEET_STOP_POLL is _constants.FLEET_STOP_POLL
    assert _task.FLEET_PROGRESS_EVERY is _constants.FLEET_PROGRESS_EVERY
    # The stale-part pattern follows the token length.
    assert _parts._PART.fullmatch(f".x.{'ab' * _constants.PART_TOKEN_BYTES}.part")


# The exit codes are the command's interface, not defaults.
_CLI_NOT_DEFAULTS = ("_defaults.py", "_errors.py")
CLI_MODULES = sorted(
    path.name
    for path in (PACKAGE / "cli").glob("*.py")
    if not path.name.startswith(_CLI_NOT_DEFAULTS)
)


@pytest.mark.parametrize("module", CLI_MODULES)
def test_no_cli_module_binds_a_numeric_default_of_its_own(module: str) -> None:
    assert numeric_bindings((PACKAGE / "cli" / module).read_text(encoding="utf-8")) == []


def test_the_cli_defaults_are_in_one_module() -> None:
    from voipstudio_async.cli import _args, _defaults, _export, _manifest, _progress_lines, _run

    bound = numeric_bindings((PACKAGE / "cli" / "_defaults.py").read_text(encoding="utf-8"))
    assert sorted(bound) == sorted(_defaults.__all__)
    assert _run.CLI_MAX_RETRIES is _defaults.CLI_MAX_RETRIES == 5
    assert _args.MAX_CONCURRENCY is _defaults.MAX_CONCURRENCY
    assert _export.EXPORT_PAGE_SIZE is _defaults.EXPORT_PAGE_SIZE
    assert _progress_lines.PROGRESS_INTERVAL is _defaults.PROGRESS_INTERVAL
    assert _manifest.HASH_CHUNK_BYTES is _defaults.HASH_CHUNK_BYTES
    parsed = _args.parse_args(
        ["monitors", "download", "--dest", "x", "--since", "2026-01-01", "--until", "2026-02-01"]
    )
    assert parsed.concurrency == _defaults.DEFAULT_CONCURRENCY
