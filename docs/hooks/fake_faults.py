"""mkdocs hook: the fake server's fault methods, their parameters and defaults, read from
``voipstudio_async.testing.FakeVoipStudio`` when the site is built.

A page holding ``<!-- fake-faults -->`` gets a table of them, and the path patterns they
take (from ``Fault``'s docstring), so the recipe cannot drift from the fake.
"""

from __future__ import annotations

import inspect
from typing import Any

MARKER = "<!-- fake-faults -->"
REFERENCE = "../reference/testing.md#voipstudio_async.testing.FakeVoipStudio"
METHODS = ("fail", "add_latency", "drop_connection", "cut_body", "drip", "rate_limit")


def _parameter(parameter: inspect.Parameter) -> str:
    if parameter.default is inspect.Parameter.empty:
        return f"`{parameter.name}`"
    return f"`{parameter.name}={parameter.default!r}`"


def render() -> str:
    from voipstudio_async.testing import FakeVoipStudio, Fault

    rows = ["| method | parameters (defaults) | does |", "|---|---|---|"]
    for name in METHODS:
        method = getattr(FakeVoipStudio, name)
        parameters = list(inspect.signature(method).parameters.values())[1:]
        summary = " ".join((inspect.getdoc(method) or "").split("\n\n")[0].split())
        rows.append(
            f"| [`fake.{name}()`]({REFERENCE}.{name})"
            f" | {', '.join(map(_parameter, parameters))} | {summary} |"
        )
    patterns = " ".join((inspect.getdoc(Fault) or "").split("\n\n")[1].split())
    return (
        "\n".join(rows)
        + f"\n\n**Paths** are relative to the API prefix (`/cdrs`, `/monitors/7.mp3`). {patterns}\n"
    )


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
