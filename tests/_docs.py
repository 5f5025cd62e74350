"""The pages whose examples users copy (README, the site's home and guides), and their
fenced blocks, for the tests that run those examples."""

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
# An optional marker comment, then a fenced block: `skip` (needs a real account) or
# `file NAME` (a file of a fresh project, run by tests/test_docs_testing_guide.py). The
# language is `python` or, where ruff format must leave the block alone, `{ .python }`.
_BLOCK = re.compile(
    r"(?:<!-- docs-test: (skip|file [\w.]+) -->\s*)?```(?:(\w+)| ?\{ \.(\w+) \})\n(.*?)```", re.S
)
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
    """The fenced blocks of `page`, with snippet includes expanded."""
    text = page.read_text(encoding="utf-8")
    for match in _BLOCK.finditer(text):
        marker, plain, attributed, source = match.groups()
        language = plain or attributed
        expanded = _INCLUDE.sub(lambda m: (ROOT / m.group(1)).read_text(encoding="utf-8"), source)
        line = text.count("\n", 0, match.start(4)) + 1
        yield Block(page, line, language, marker, expanded, expanded != source)


def all_blocks(language: str) -> Iterator[Block]:
    """Every block of `language` on every page."""
    for page in PAGES:
        yield from (b for b in blocks(page) if b.language == language)
