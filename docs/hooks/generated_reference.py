"""mkdocs hook: the reference of the generated package ``voipstudio_history_client``.

A page holding ``<!-- generated-package-reference -->`` gets one section per API tag
with every operation module the generator wrote, and one per model, read from the
package itself so a new operation or model appears without editing the page. Their
docstrings come from the spec's summaries and descriptions (``openapi/history.yaml``).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

MARKER = "<!-- generated-package-reference -->"
PACKAGE = "voipstudio_history_client"
# What each operation module defines, in the order a reader wants them.
FUNCTIONS = ("asyncio", "asyncio_detailed", "asyncio_stream", "sync", "sync_detailed")


def _directive(path: str, level: int, members: list[str] | None = None) -> str:
    lines = [f"::: {path}", "    options:", f"      heading_level: {level}"]
    if members is not None:
        lines.append(f"      members: [{', '.join(members)}]")
    return "\n".join(lines) + "\n"


def render() -> str:
    api = importlib.import_module(f"{PACKAGE}.api")
    models = importlib.import_module(f"{PACKAGE}.models")
    out = ["## Operations\n"]
    for tag in sorted(m.name for m in pkgutil.iter_modules(api.__path__)):
        out.append(f"### `{tag}`\n")
        package = importlib.import_module(f"{PACKAGE}.api.{tag}")
        for op in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
            module = importlib.import_module(f"{PACKAGE}.api.{tag}.{op}")
            present = [name for name in FUNCTIONS if hasattr(module, name)]
            out.append(_directive(f"{PACKAGE}.api.{tag}.{op}", 4, present))
    out.append("## Models\n")
    for name in sorted(models.__all__):
        out.append(_directive(f"{PACKAGE}.models.{name}", 3))
    return "\n".join(out)


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
