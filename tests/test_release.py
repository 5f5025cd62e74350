"""What a release carries: the lock matches pyproject.toml, the metadata tells the truth.

``make setup`` (``uv sync --locked``) is the full lock check; the test here catches the
common slip hermetically: a dependency added, removed or re-bounded in pyproject.toml
without ``make lock``.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT: dict[str, Any] = PYPROJECT["project"]
LOCK: dict[str, Any] = tomllib.loads((ROOT / "uv.lock").read_text())

Key = tuple[str, frozenset[str], str]


def _key(name: str, extras: Any, specifier: str) -> Key:
    return (
        canonicalize_name(name),
        frozenset(extras or ()),
        str(Requirement(f"x{specifier}").specifier),
    )


def _declared(requirements: list[str]) -> Counter[Key]:
    parsed = [Requirement(line) for line in requirements]
    return Counter(_key(r.name, r.extras, str(r.specifier)) for r in parsed)


def _group(name: str) -> list[str]:
    lines: list[str] = []
    for item in PYPROJECT["dependency-groups"][name]:
        lines += _group(item["include-group"]) if isinstance(item, dict) else [item]
    return lines


def _locked_project() -> dict[str, Any]:
    (package,) = [p for p in LOCK["package"] if p["name"] == PROJECT["name"]]
    return package


def _locked(entries: list[dict[str, Any]]) -> Counter[Key]:
    return Counter(_key(e["name"], e.get("extras"), e.get("specifier", "")) for e in entries)


def test_the_lock_matches_pyproject_toml() -> None:
    hint = "uv.lock is out of date: run `make lock` and commit uv.lock"
    metadata = _locked_project()["metadata"]
    extras = PROJECT["optional-dependencies"]
    assert metadata.get("provides-extras", []) == list(extras), hint
    declared = _declared(PROJECT["dependencies"]) + sum(
        (_declared(lines) for lines in extras.values()), Counter()
    )
    assert _locked(metadata["requires-dist"]) == declared, hint
    groups = metadata.get("requires-dev", {})
    assert set(groups) == set(PYPROJECT["dependency-groups"]), hint
    for group, entries in groups.items():
        assert _locked(entries) == _declared(_group(group)), (group, hint)


def test_the_lock_covers_every_supported_python() -> None:
    assert LOCK["requires-python"] == PROJECT["requires-python"]


def test_extras_hold_only_what_users_install() -> None:
    extras = PROJECT["optional-dependencies"]
    assert "dev" not in extras and "docs" not in extras
    tools = {"ruff", "mypy", "mkdocs", "openapi-python-client", "griffe", "moto", "uv", "twine"}
    for name, lines in extras.items():
        assert not {canonicalize_name(Requirement(line).name) for line in lines} & tools, name
    assert {"ruff", "mypy", "openapi-python-client", "uv"} <= {
        canonicalize_name(Requirement(line).name) for line in _group("dev")
    }


def test_bounded_where_the_code_relies_on_internals() -> None:
    requirements = {
        canonicalize_name(Requirement(line).name): Requirement(line).specifier
        for lines in [PROJECT["dependencies"], *PROJECT["optional-dependencies"].values()]
        for line in lines
    }
    for name in ("aiohttp", "opentelemetry-api", "s3fs", "httpcore"):
        assert any(spec.operator in ("<", "<=") for spec in requirements[name]), name


def test_classifiers_name_exactly_the_pythons_ci_tests() -> None:
    makefile = (ROOT / "Makefile").read_text()
    (others,) = re.findall(r"^OTHER_PYTHONS \?= (.*)$", makefile, flags=re.MULTILINE)
    lowest = PROJECT["requires-python"].removeprefix(">=")
    tested = {lowest, *others.split()}
    prefix = "Programming Language :: Python :: 3."
    classified = {c.rsplit(" ", 1)[1] for c in PROJECT["classifiers"] if c.startswith(prefix)}
    assert classified == tested


def test_the_long_description_has_no_repository_links() -> None:
    hooks = PYPROJECT["tool"]["hatch"]["metadata"]["hooks"]["fancy-pypi-readme"]
    assert hooks["fragments"] == [{"path": "README.md"}]
    text = (ROOT / "README.md").read_text()
    for substitution in hooks["substitutions"]:
        text = re.sub(substitution["pattern"], substitution["replacement"], text)
    links = re.findall(r"\]\(([^)]*)\)", text)
    assert links, "the README keeps its absolute links"
    assert [link for link in links if not link.startswith(("https://", "http://"))] == []
    assert "[`CHANGELOG.md`]" not in text and "`CHANGELOG.md`" in text  # the text stays


def test_the_licence_ships_in_both_artifacts() -> None:
    licence = (ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "voipstudio-async contributors" in licence
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    sdist = PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    assert {"LICENSE", "CHANGELOG.md", "tests", "README.md"} <= set(sdist)
