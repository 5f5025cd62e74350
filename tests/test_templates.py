"""Each template override is the pinned generator's stock template plus its reviewed patch.

A generator upgrade that changes a stock template fails here, naming the template, instead
of silently keeping an override built from the old version (openapi/templates/README.md).
"""

from __future__ import annotations

import re
from pathlib import Path

import openapi_python_client
import pytest

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "openapi" / "templates"
STOCK = Path(openapi_python_client.__file__).parent / "templates"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply_unified_diff(original: str, diff: str) -> str:
    """Apply a unified diff strictly: every context and removed line must match."""
    source = original.splitlines(keepends=True)
    out: list[str] = []
    position = 0
    lines = diff.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("@@"))
    while index < len(lines):
        match = _HUNK.match(lines[index])
        assert match, f"not a hunk header: {lines[index]!r}"
        start = int(match.group(1)) - (0 if match.group(2) == "0" else 1)
        out.extend(source[position:start])
        position = start
        index += 1
        while index < len(lines) and not lines[index].startswith("@@"):
            tag, text = lines[index][:1], lines[index][1:]
            if tag in (" ", "-"):
                assert source[position] == text, f"patch does not apply at line {position + 1}"
                position += 1
            if tag in (" ", "+"):
                out.append(text)
            index += 1
    out.extend(source[position:])
    return "".join(out)


@pytest.mark.parametrize("patch", sorted(TEMPLATES.glob("*.patch")), ids=lambda p: p.stem)
def test_override_is_stock_template_plus_its_patch(patch: Path) -> None:
    diff = patch.read_text(encoding="utf-8")
    name = re.search(r"^\+\+\+ \S*?([\w.]+\.jinja)", diff, re.M)
    assert name, f"{patch.name} names no template"
    template = name.group(1)
    stock = (STOCK / template).read_text(encoding="utf-8")
    override = (TEMPLATES / template).read_text(encoding="utf-8")
    assert apply_unified_diff(stock, diff) == override, (
        f"openapi/templates/{template} is not the stock template of the installed generator"
        f" plus {patch.name}: follow the upgrade steps in openapi/templates/README.md"
    )


def test_every_override_has_a_patch() -> None:
    overrides = {p.name for p in TEMPLATES.glob("*.jinja")}
    patched = {
        m.group(1)
        for p in TEMPLATES.glob("*.patch")
        if (m := re.search(r"^\+\+\+ \S*?([\w.]+\.jinja)", p.read_text(encoding="utf-8"), re.M))
    }
    assert overrides == patched


def test_applier_refuses_a_patch_that_does_not_fit() -> None:
    with pytest.raises(AssertionError, match="does not apply"):
        apply_unified_diff("a\nb\n", "@@ -1,2 +1,2 @@\n a\n-c\n+d\n")
