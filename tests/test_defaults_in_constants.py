"""The walk defaults named in issue 20 item 5 live in ``_constants`` (the modules that use
them import them from there)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from voipstudio_async import _constants, _decode, _pagination

MOVED = ("MAX_PAGE_SIZE", "PREFETCH_PAGES", "YIELD_EVERY")


@pytest.mark.parametrize("module", [_pagination, _decode], ids=lambda m: m.__name__)
def test_the_walk_defaults_are_not_bound_outside_the_constants(module: object) -> None:
    tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text())
    bound = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    assert bound.isdisjoint(MOVED)


def test_the_walk_defaults_are_the_constants() -> None:
    assert _pagination.MAX_PAGE_SIZE is _constants.MAX_PAGE_SIZE == 5000
    assert _pagination.PREFETCH_PAGES is _constants.PREFETCH_PAGES == 2
    assert _decode.YIELD_EVERY is _constants.YIELD_EVERY == 500
