"""mkdocs hook: the `voipstudio` command's reference, rendered from its argparse parser.

A page holding the line ``<!-- voipstudio-cli-reference -->`` gets, in its place, one
section per command with exactly what ``voipstudio ... --help`` prints, so the page cannot
drift from the parser.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

MARKER = "<!-- voipstudio-cli-reference -->"
# The width argparse wraps to: fixed, so the page does not depend on the terminal that
# built it, and narrow enough that no line of a help text is clipped on the page.
WIDTH = "76"


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:  # argparse has no public walk over subcommands
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def render() -> str:
    """The markdown of every command's help, depth first, in the parser's order."""
    from voipstudio_async.cli._args import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        sections = []
        for path, parser in _commands(build_parser(), ("voipstudio",)):
            level = "#" * (2 if len(path) <= 2 else 3)
            sections.append(
                f"{level} `{' '.join(path)}` {{ #{'-'.join(path)} }}\n\n"
                f"```text\n{parser.format_help().rstrip()}\n```\n"
            )
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(sections)


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
