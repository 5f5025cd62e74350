"""Argument checks shared by the engines, the client and the resource namespaces."""

from __future__ import annotations

from typing import TypeGuard

__all__ = ["check_id", "check_positive_int", "is_positive_int"]


def is_positive_int(value: object) -> TypeGuard[int]:
    """True for an int >= 1; bool is an int subclass, but True must never become id 1."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_positive_int(value: object, name: str) -> int:
    """``value`` if it is a positive int; anything else (bool, float, str, 0) is a ValueError."""
    if not is_positive_int(value):
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def check_id(value: object, name: str = "id") -> int:
    """``value`` if it is a positive int; anything else (bool, str, 0, ...) is a ValueError."""
    return check_positive_int(value, name)
