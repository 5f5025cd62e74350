"""The pages whose examples users copy (README, the site's home and guides), and their
fenced blocks, for the tests that run those examples and check their width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    ROOT / "docs" / "index.md",
    *sorted((ROOT / "docs" / "guides").glob("*.md")),
]
# An optional marker comment on the line before a fenced block: `skip` (needs a real
# account), `file NAME` (a file of a fresh project, run by tests/test_docs_testing_guide.py)
# or `output` (what a command prints, quoted as it is: exempt from the width check).
_MARKER = re.compile(r"^<!-- docs-test: (skip|output|file [\w.]+) -->$")
# A fence opens with three or more backticks and a language: `python`, or, where ruff
# format must leave the block alone, `{ .python }`; or none (a plain block).
_FENCE = re.compile(r"^( *)(`{3,})\s*(?:\{ ?\.(\w+)[^}]*\}|(\w+))?[^`]*$")
# pymdownx.snippets: the page shows the named file (e.g. examples/fastapi_app.py) here.
_INCLUDE = re.compile(r'^--8<-- "([^"]+)"$', re.M)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    marker: str | None
    source: str
    included: bool

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> Iterator[Block]:
    """The fenced blocks of `page` (`line`: the first line inside the fence; `language`:
    "" for a plain block), their indentation removed and snippet includes expanded."""
    lines = page.read_text(encoding="utf-8").splitlines()
    marker: str | None = None
    number = 0
    while number < len(lines):
        fence = _FENCE.match(lines[number])
        if fence is None:
            if lines[number].strip():
                found = _MARKER.match(lines[number].strip())
                marker = found.group(1) if found else None
            number += 1
            continue
        indent, ticks, attributed, plain = fence.groups()
        end = number + 1
        while end < len(lines) and lines[end].strip() != ticks:
            end += 1
        body = [line.removeprefix(indent) for line in lines[number + 1 : end]]
        source = "".join(f"{line}\n" for line in body)
        expanded = _INCLUDE.sub(lambda m: (ROOT / m.group(1)).read_text(encoding="utf-8"), source)
        language = attributed or plain or ""
        yield Block(page, number + 2, language, marker, expanded, expanded != source)
        marker = None
        number = end + 1


def all_blocks(language: str) -> Iterator[Block]:
    """Every block of `language` on every page."""
    for page in PAGES:
        yield from (b for b in blocks(page) if b.language == language)
