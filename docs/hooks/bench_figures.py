"""mkdocs hook: figures quoted in prose come from the last `make bench` run.

``{{ bench: results.warehouse.first.rows_per_s ,.0f }}`` on a page becomes that value of
``bench/results/latest.json``, formatted with the given format spec, and
``{{ bench: target "walk (5000/page): SDK / naive raw-httpx loop" .2f }}`` the value of
the target of that name, as the Targets table shows it; ``met`` in place of the format
spec gives ``met`` or ``missed``, ``goal`` the goal (``≥ 1.0``). Another run's file of
``bench/results`` is named before the path: ``{{ bench: pool.json:results.x .2f }}``. So
a guide, the Performance page's prose and its tables (``latest.md``) cannot disagree. An
unknown file, path or target fails the build.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "latest.json"
_FIGURE = re.compile(r'\{\{ bench: (?:target "([^"]+)"|([\w./=:-]+))(?: ([^ }]+))? \}\}')
_OPERATORS = {">=": "≥", "<=": "≤"}


@cache
def _results(name: str = RESULTS.name) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RESULTS.parent / name).read_text(encoding="utf-8"))
    return data


def figure(path: str, spec: str = "") -> str:
    """The value at dotted ``path`` (keys may contain ``/``; ``file.json:`` first reads
    that file of bench/results), formatted with ``spec``."""
    name, _, path = path.rpartition(":") if ".json:" in path else (RESULTS.name, "", path)
    value: Any = _results(name)
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(f"bench/results/{name} has no {path!r}")
        value = value[key]
    return format(value, spec)


def target(name: str, spec: str = "") -> str:
    """The target called ``name``: its value formatted with ``spec``, or ``met``/``goal``."""
    found = [t for t in _results()["targets"] if t["target"] == name]
    if not found:
        raise KeyError(f"bench/results/latest.json has no target {name!r}")
    entry = found[0]
    if spec == "met":
        return "met" if entry["met"] else "missed"
    if spec == "goal":
        return f"{_OPERATORS.get(entry['op'], entry['op'])} {entry['threshold']:g}"
    return format(entry["value"], spec)


def _render(match: re.Match[str]) -> str:
    name, path, spec = match.groups()
    return target(name, spec or "") if name is not None else figure(path, spec or "")


def on_page_markdown(markdown: str, **_: Any) -> str:
    if "{{ bench:" not in markdown:
        return markdown
    return _FIGURE.sub(_render, markdown)
