"""`make api-check`: public-API breaks fail until the CHANGELOG names them; the stamp is current."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import sys
from importlib.metadata import version
from types import ModuleType
from typing import Any

import pytest
from test_generation import BIN, ROOT, generate

import voipstudio_async

GEN_PKG = ROOT / "generated" / "voipstudio_history_client"
CDR_CALLDATE = "voipstudio_history_client.models.cdr.Cdr.calldate"


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_check", ROOT / "tools" / "api_check.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


api_check = _load_tool()


def test_version_comes_from_the_package_metadata() -> None:
    assert voipstudio_async.__version__ == version("voipstudio-async")
    assert "__version__" in voipstudio_async.__all__


def test_the_stamp_records_the_generator_and_the_spec_it_was_built_from() -> None:
    stamp = json.loads((GEN_PKG / "_stamp.json").read_text(encoding="utf-8"))
    spec = (ROOT / "openapi" / "history.yaml").read_bytes()
    assert stamp["spec_sha256"] == hashlib.sha256(spec).hexdigest(), "run make generate"
    assert stamp["generator"] == f"openapi-python-client {version('openapi-python-client')}"
    assert stamp["ruff"] == version("ruff")


def test_only_the_breaking_list_of_the_unreleased_section_announces_a_break() -> None:
    changelog = (
        "# Changelog\n\n## [Unreleased]\n\n### Breaking\n- `a.b.C.gone` (renamed)\n\n"
        "### Added\n- `a.b.C.added`, which replaces `a.b.C.mentioned`\n\n"
        "## [0.1.0] - 2026-11-30\n### Breaking\n- a.b.C.old\n"
    )
    assert api_check.breaking_section(changelog).strip() == "- `a.b.C.gone` (renamed)"
    found = [api_check.Break(path, "Public object was removed") for path in
             ("a.b.C.gone", "a.b.C.old", "a.b.C.mentioned")]  # fmt: skip
    missing = api_check.unannounced(found, changelog)
    assert [b.path for b in missing] == ["a.b.C.old", "a.b.C.mentioned"]


@pytest.mark.parametrize(
    ("old", "new", "how"),
    [
        ("int | None | Unset", "str | None | Unset", "type narrowed"),
        ("int | None | str | Unset", "None | str | Unset", "type narrowed"),
        ("int | None | Unset", "int | Unset", "no longer nullable"),
        ("int | None | Unset", "int | None", "now required"),
        ("list[int] | None", "list[str] | None", "type narrowed"),
        ("int | None | Unset", "int | None | str | Unset", None),  # wider: not a break
        ("Unset | str", "Unset | str", None),
    ],
)
def test_a_narrowed_type_is_named_with_how(old: str, new: str, how: str | None) -> None:
    found = api_check._narrowed(api_check._split_union(old), api_check._split_union(new))
    assert (found is None) if how is None else (how in found)


SPEC = (ROOT / "openapi" / "history.yaml").read_text(encoding="utf-8")
CDR = "voipstudio_history_client.models.cdr.Cdr"


def _cdr_property(text: str, name: str) -> tuple[int, int]:
    """Where the Cdr schema's property `name` is (start and end of its lines)."""
    cdr = text.index("\n    Cdr:\n")
    start = text.index(f"\n        {name}:\n", cdr) + 1
    end = re.compile(r"^        \S|^    \S", re.M).search(text, start + 1)
    assert end is not None
    return start, end.start()


def _replace_property(text: str, name: str, body: str) -> str:
    start, end = _cdr_property(text, name)
    return text[:start] + body + text[end:]


@pytest.fixture(scope="module")
def changed_api(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """One regeneration with a field's type changed, nullability dropped, a code narrowed,
    a field renamed, a field removed, a path parameter's type changed: the breaks api-check
    finds against the released snapshot."""
    text = _replace_property(
        SPEC, "billsec", "        billsec:\n          type: string\n          nullable: true\n"
    )
    text = _replace_property(text, "src", "        src:\n          type: string\n")
    text = _replace_property(
        text, "type", "        type:\n          type: string\n          nullable: true\n"
    )
    text = _replace_property(text, "src_codec", "")
    param = text.index("\n    CdrId:\n")
    integer = "type: integer\n        minimum: 1\n"
    at = text.index(integer, param)
    text = text[:at] + "type: string\n" + text[at + len(integer) :]
    head, _, tail = text.partition("components:")
    tail = tail.replace("        calldate:\n", "        call_date:\n", 1)
    tail = tail.replace("x-voipstudio-dated-by: calldate", "x-voipstudio-dated-by: call_date", 1)
    tmp = tmp_path_factory.mktemp("api")
    spec = tmp / "history.yaml"
    spec.write_text(head + "components:" + tail, encoding="utf-8")
    package = generate(spec, tmp / "gen")
    old = api_check.load_snapshot(api_check.SNAPSHOT.read_text(encoding="utf-8"))
    return list(api_check.breakages(old, api_check.load_current((ROOT, package.parent))))


@pytest.mark.skipif(shutil.which("ruff", path=str(BIN)) is None, reason="needs make setup")
@pytest.mark.parametrize(
    ("path", "how"),
    [
        (f"{CDR}.billsec", "type narrowed"),
        (f"{CDR}.src", "no longer nullable"),
        (f"{CDR}.type_", "type narrowed"),
        (f"{CDR}.calldate", "removed"),  # renamed
        (f"{CDR}.src_codec", "removed"),
        ("voipstudio_history_client.api.cdrs.get_cdr.asyncio", "'id' type changed"),
    ],
)
def test_field_type_nullability_and_renames_are_breaks(
    changed_api: list[Any], path: str, how: str
) -> None:
    mine = [str(b) for b in changed_api if b.path == path]
    assert any(how in line for line in mine), mine


@pytest.mark.skipif(shutil.which("ruff", path=str(BIN)) is None, reason="needs make setup")
def test_each_break_is_listed_once_and_announced_only_under_breaking(
    changed_api: list[Any],
) -> None:
    assert len(changed_api) == len(set(changed_api))
    assert sum(b.path == f"{CDR}.calldate" for b in changed_api) == 1
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    billsec = f"{CDR}.billsec"
    assert billsec in {b.path for b in api_check.unannounced(changed_api, changelog)}
    elsewhere = changelog.replace(
        "## [Unreleased]\n", f"## [Unreleased]\n\n### Changed\n- `{billsec}` is a string\n", 1
    )
    assert billsec in {b.path for b in api_check.unannounced(changed_api, elsewhere)}
    announced = changelog.replace(
        "## [Unreleased]\n", f"## [Unreleased]\n\n### Breaking\n- `{billsec}` is a string\n", 1
    )
    assert billsec not in {b.path for b in api_check.unannounced(changed_api, announced)}


@pytest.mark.parametrize(
    ("new", "broken"),
    [
        ("def f(x: str) -> Any: ...", True),
        (  # one overload still returns int for the old arguments: nothing breaks
            "from typing import overload\n"
            "@overload\ndef f(x: str) -> int: ...\n"
            "@overload\ndef f(x: Dest[R]) -> R: ...\n"
            "def f(x: str | Dest[Any]) -> Any: ...",
            False,
        ),
        (
            "from typing import overload\n"
            "@overload\ndef f(x: str) -> str: ...\n"
            "@overload\ndef f(x: Dest[R]) -> R: ...\n"
            "def f(x: str | Dest[Any]) -> Any: ...",
            True,
        ),
    ],
)
def test_a_return_type_kept_by_an_overload_is_not_a_break(new: str, broken: bool) -> None:
    import griffe

    with (
        griffe.temporary_visited_module("def f(x: str) -> int: ...") as old,
        griffe.temporary_visited_module(new) as current,
    ):
        found = list(api_check.type_breakages(old, current))
    assert [b.kind for b in found] == (["Return type changed"] if broken else [])
