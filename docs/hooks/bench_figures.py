"""mkdocs hook: figures quoted in prose come from the last `make bench` run.

``{{ bench: results.warehouse.first.rows_per_s ,.0f }}`` on a page becomes that value of
``bench/results/latest.json``, formatted with the given format spec,
so a guide and the Performance page (which includes ``latest.md``) cannot disagree. An
unknown path fails the build.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "latest.json"
_FIGURE = re.compile(r"\{\{ bench: ([\w./=-]+)(?: ([^ }]+))? \}\}")


@cache
def _results() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8"))
    return data


def figure(path: str, spec: str = "") -> str:
    """The value at dotted ``path`` (keys may contain ``/``), formatted with ``spec``."""
    value: Any = _results()
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(f"bench/results/latest.json has no {path!r}")
        value = value[key]
    return format(value, spec)


def on_page_markdown(markdown: str, **_: Any) -> str:
    if "{{ bench:" not in markdown:
        return markdown
    return _FIGURE.sub(lambda m: figure(m.group(1), m.group(2) or ""), markdown)
