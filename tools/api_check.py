"""Public-API break detection against the committed snapshot of the last release.

``python tools/api_check.py check`` loads ``voipstudio_async`` and the generated
``voipstudio_history_client`` with griffe (statically, nothing is imported), compares them
with ``api/public-api.json`` and fails on every breaking change whose object path is not
named under a ``### Breaking`` heading of the CHANGELOG's ``[Unreleased]`` section.
Besides griffe's own checks (removals, parameters, defaults), the types are compared,
which griffe does not do: a model field's or attribute's type narrowed (a part of its
union gone: ``int`` → ``str``, no longer ``None``, no longer ``Unset`` i.e. now required),
a parameter's type narrowed, a return type widened or changed, a base class changed.
A default that only moved to a named constant of the same value is not a change.
``python tools/api_check.py snapshot`` rewrites the snapshot: a deliberate release step
(see CONTRIBUTING.md), never part of a build, because git tags may not travel with the
repository.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Break:
    """One breaking change: the public object's path, what changed, and how."""

    path: str
    kind: str
    detail: str = ""

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.path}: {self.kind}{detail}"


def _split_union(text: str) -> frozenset[str]:
    """The parts of a ``X | Y[Z | W] | None`` annotation (top-level ``|`` only)."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += 1 if char in "[(" else -1 if char in "])" else 0
        if char == "|" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return frozenset(part.replace("Optional[", "None | ") for part in parts if part)


def _parts(annotation: object) -> frozenset[str] | None:
    return None if annotation is None else _split_union(str(annotation))


def _narrowed(old: frozenset[str], new: frozenset[str]) -> str | None:
    """How a value type lost what it accepted, or None if it did not."""
    gone = old - new
    if not gone:
        return None
    if gone == {"None"}:
        return "no longer nullable"
    if gone == {"Unset"}:
        return "now required (no longer Unset)"
    return f"type narrowed: {' | '.join(sorted(old))} -> {' | '.join(sorted(new))}"


def _public(obj: griffe.Object | griffe.Alias) -> bool:
    return not obj.name.startswith("_") or obj.name == "__init__"


def _walk(obj: griffe.Object) -> Iterator[griffe.Object]:
    for member in obj.members.values():
        if member.is_alias or not _public(member):
            continue
        assert isinstance(member, griffe.Object)
        yield member
        if member.is_class or member.is_module:
            yield from _walk(member)


def _counterpart(new_module: griffe.Module, old: griffe.Object) -> griffe.Object | None:
    try:
        found = new_module[old.path.split(".", 1)[1]]
    except (KeyError, IndexError, ValueError, griffe.AliasResolutionError):
        return None
    while isinstance(found, griffe.Alias):
        try:
            found = found.final_target
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
    return found if isinstance(found, griffe.Object) else None


def type_breakages(old_module: griffe.Module, new_module: griffe.Module) -> Iterator[Break]:
    """Type changes griffe does not report: fields, parameters, returns, bases."""
    for old in _walk(old_module):
        new = _counterpart(new_module, old)
        if new is None or new.kind is not old.kind:
            continue  # griffe reports removals and kind changes
        if isinstance(old, griffe.Attribute) and isinstance(new, griffe.Attribute):
            before, after = _parts(old.annotation), _parts(new.annotation)
            if before is not None and after is not None and (how := _narrowed(before, after)):
                yield Break(old.path, "Attribute type changed", how)
        elif isinstance(old, griffe.Function) and isinstance(new, griffe.Function):
            for param in old.parameters:
                if param.name not in new.parameters:
                    continue
                before = _parts(param.annotation)
                after = _parts(new.parameters[param.name].annotation)
                if before is not None and after is not None and (how := _narrowed(before, after)):
                    yield Break(old.path, f"Parameter {param.name!r} type changed", how)
            before, after = _parts(old.returns), _parts(new.returns)
            # Overloads: a call typed as before is still typed as before when one of
            # them returns what the old function did (the implementation's is wider).
            kept = any(_parts(o.returns) == before for o in new.overloads or ())
            if before is not None and after is not None and not after <= before and not kept:
                shown = f"{' | '.join(sorted(before))} -> {' | '.join(sorted(after))}"
                yield Break(old.path, "Return type changed", shown)
        elif isinstance(old, griffe.Class) and isinstance(new, griffe.Class):
            before_bases = {str(base) for base in old.bases}
            after_bases = {str(base) for base in new.bases}
            if before_bases - after_bases:
                shown = f"{', '.join(sorted(before_bases))} -> {', '.join(sorted(after_bases))}"
                yield Break(old.path, "Base class changed", shown)


def _default(tree: dict[str, griffe.Module], expr: object) -> str:
    """A default as its value: a name of a module-level constant is replaced by its value."""
    if isinstance(expr, griffe.ExprName):
        try:
            package, rest = expr.canonical_path.split(".", 1)
            target = tree[package][rest]
        except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            return str(expr)
        if isinstance(target, griffe.Attribute) and target.value is not None:
            return str(target.value)
    return str(expr)


def _same_default(
    breakage: griffe.Breakage, old: dict[str, griffe.Module], new: dict[str, griffe.Module]
) -> bool:
    if breakage.kind is not griffe.BreakageKind.PARAMETER_CHANGED_DEFAULT:
        return False
    before, after = breakage.old_value, breakage.new_value
    return _default(old, before.default) == _default(new, after.default)


def _from_griffe(breakage: griffe.Breakage) -> Break:
    detail = ""
    if isinstance(breakage.old_value, griffe.Parameter):
        detail = f"parameter {breakage.old_value.name!r}"
    return Break(breakage.obj.path, breakage.kind.value, detail)


def breakages(old: dict[str, griffe.Module], new: dict[str, griffe.Module]) -> Iterator[Break]:
    """Every breaking change from ``old`` to ``new``, package by package, each once."""
    seen: set[Break] = set()
    for name, old_module in old.items():
        new_module = new.get(name)
        if new_module is None:
            raise SystemExit(f"api-check: package {name} is gone")
        found = [
            *(
                _from_griffe(b)
                for b in griffe.find_breaking_changes(old_module, new_module)
                if not _same_default(b, old, new)
            ),
            *type_breakages(old_module, new_module),
        ]
        for breakage in found:
            if breakage not in seen:
                seen.add(breakage)
                yield breakage


def unreleased_section(changelog: str) -> str:
    """The text of the CHANGELOG's ``## [Unreleased]`` section."""
    match = re.search(r"^## \[Unreleased\][^\n]*\n(.*?)(?=^## \[|\Z)", changelog, re.M | re.S)
    return match.group(1) if match else ""


def breaking_section(changelog: str) -> str:
    """The text under ``### Breaking`` of the ``[Unreleased]`` section."""
    match = re.search(
        r"^### Breaking[^\n]*\n(.*?)(?=^###? |\Z)", unreleased_section(changelog), re.M | re.S
    )
    return match.group(1) if match else ""


def unannounced(found: Iterable[Break], changelog: str) -> list[Break]:
    """The breaks whose object path the ``### Breaking`` list of [Unreleased] does not name
    (a path only mentioned elsewhere, in Added or Fixed, does not announce a break)."""
    named = set(re.findall(r"[A-Za-z_][\w.]*", breaking_section(changelog)))
    return [b for b in found if b.path not in named]


def _check() -> int:
    if not SNAPSHOT.exists():
        print(f"api-check: no snapshot at {SNAPSHOT.relative_to(ROOT)}: run 'make api-snapshot'")
        return 1
    found = list(breakages(load_snapshot(SNAPSHOT.read_text(encoding="utf-8")), load_current()))
    missing = unannounced(found, CHANGELOG.read_text(encoding="utf-8"))
    for breakage in found:
        flag = "NOT IN CHANGELOG" if breakage in missing else "announced"
        print(f"api-check: {breakage} ({flag})")
    if missing:
        print(
            f"api-check: {len(missing)} breaking change(s) of the public API since the last"
            " release. If intended, name each path above under '### Breaking' of"
            " '## [Unreleased]' in CHANGELOG.md (a major version bump, see"
            " docs/development.md 'Versioning'); otherwise restore it."
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
