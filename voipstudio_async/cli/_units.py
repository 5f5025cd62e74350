"""Sizes for people."""

from __future__ import annotations

__all__ = ["human_bytes"]


def human_bytes(size: int) -> str:
    """``1234567`` → ``1.2 MB`` (decimal units, like file managers)."""
    units = ("B", "kB", "MB", "GB", "TB")
    value, exponent = float(size), 0
    while value >= 1000 and exponent < len(units) - 1:
        value /= 1000
        exponent += 1
    return f"{size} B" if exponent == 0 else f"{value:.1f} {units[exponent]}"
