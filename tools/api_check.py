"""Public-API break detection against the committed snapshot of the last release.

``python tools/api_check.py check`` loads ``voipstudio_async`` and the generated
``voipstudio_history_client`` with griffe (statically, nothing is imported), compares them
with ``api/public-api.json`` and fails on every breaking change whose object path is not
named in the CHANGELOG's ``[Unreleased]`` section. ``python tools/api_check.py snapshot``
rewrites the snapshot: a deliberate release step (see CONTRIBUTING.md), never part of a
build, because git tags may not travel with the repository.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("voipstudio_async", "voipstudio_history_client")
SEARCH_PATHS = (ROOT, ROOT / "generated")
SNAPSHOT = ROOT / "api" / "public-api.json"
CHANGELOG = ROOT / "CHANGELOG.md"
# A docstring edit is not a break, and paths differ per clone (griffe's decoder needs
# line numbers, so those stay).
_DROPPED_KEYS = frozenset(
    {"docstring", "filepath", "relative_filepath", "relative_package_filepath"}
)


def load_current(search_paths: Iterable[Path] = SEARCH_PATHS) -> dict[str, griffe.Module]:
    """The packages as the source tree defines them now."""
    loader = griffe.GriffeLoader(search_paths=[str(p) for p in search_paths])
    modules = {name: loader.load(name) for name in PACKAGES}
    loader.resolve_aliases(implicit=False, external=False)
    return {name: module for name, module in modules.items() if isinstance(module, griffe.Module)}


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v) for k, v in data.items() if k not in _DROPPED_KEYS}
    if isinstance(data, list):
        return [_strip(v) for v in data]
    return data


def dump(modules: dict[str, griffe.Module]) -> str:
    """The snapshot text: one griffe JSON tree per package, without docstrings or paths."""
    tree = {name: _strip(json.loads(module.as_json())) for name, module in modules.items()}
    return json.dumps(tree, indent=1, sort_keys=True) + "\n"


def load_snapshot(text: str) -> dict[str, griffe.Module]:
    """Decode a snapshot into griffe modules that share one collection (aliases resolve)."""
    collection = griffe.ModulesCollection()
    modules: dict[str, griffe.Module] = {}
    for name, data in json.loads(text).items():
        module = json.loads(json.dumps(data), object_hook=griffe.json_decoder)
        # griffe exposes no setter: decoded trees otherwise cannot resolve their aliases.
        module._modules_collection = collection
        collection.members[name] = module
        modules[name] = module
    return modules


def breakages(
    old: dict[str, griffe.Module], new: dict[str, griffe.Module]
) -> Iterator[griffe.Breakage]:
    """Every breaking change from ``old`` to ``new``, package by package."""
    for name, old_module in old.items():
        new_module = new.get(name)
        if new_module is None:
            raise SystemExit(f"api-check: package {name} is gone")
        yield from griffe.find_breaking_changes(old_module, new_module)


def unreleased_section(changelog: str) -> str:
    """The text of the CHANGELOG's ``## [Unreleased]`` section."""
    match = re.search(r"^## \[Unreleased\][^\n]*\n(.*?)(?=^## \[|\Z)", changelog, re.M | re.S)
    return match.group(1) if match else ""


def unannounced(found: Iterable[griffe.Breakage], changelog: str) -> list[griffe.Breakage]:
    """The breakages whose object path the Unreleased section does not name."""
    section = unreleased_section(changelog)
    named = set(re.findall(r"[A-Za-z_][\w.]*", section))
    return [b for b in found if b.obj.path not in named]


def _check() -> int:
    if not SNAPSHOT.exists():
        print(f"api-check: no snapshot at {SNAPSHOT.relative_to(ROOT)}: run 'make api-snapshot'")
        return 1
    found = list(breakages(load_snapshot(SNAPSHOT.read_text(encoding="utf-8")), load_current()))
    missing = unannounced(found, CHANGELOG.read_text(encoding="utf-8"))
    for breakage in found:
        flag = "NOT IN CHANGELOG" if breakage in missing else "announced"
        print(f"api-check: {breakage.obj.path}: {breakage.kind.value} ({flag})")
    if missing:
        print(
            f"api-check: {len(missing)} breaking change(s) of the public API since the last"
            " release. If intended, name each path above under '## [Unreleased]' in"
            " CHANGELOG.md (a major version bump, see docs/development.md 'Versioning');"
            " otherwise restore it."
        )
        return 1
    print(f"api-check: no unannounced breaking change ({len(found)} announced)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["check", "snapshot"])
    args = parser.parse_args(argv)
    if args.command == "snapshot":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(dump(load_current()), encoding="utf-8")
        print(f"api-check: wrote {SNAPSHOT.relative_to(ROOT)}")
        return 0
    return _check()


if __name__ == "__main__":
    sys.exit(main())
