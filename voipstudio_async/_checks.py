"""The one way arguments are checked: every option of the client, the rate limit, the
retry budget and the resource methods goes through these helpers, so every refusal reads
``<name> must be <requirement>, got <value>``: a ``ValueError``, or a ``TypeError`` for an
object of the wrong class (credentials are checked in ``_client`` without echoing
them)."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import TypeGuard, TypeVar

import httpx

from ._constants import MAX_ID

__all__ = [
    "ID_REQUIREMENT",
    "check_bool",
    "check_choice",
    "check_id",
    "check_instance",
    "check_int",
    "check_number",
    "check_optional_seconds",
    "check_positive_int",
    "check_seconds",
    "check_timeout",
    "invalid",
    "is_id",
    "is_positive_int",
]

T = TypeVar("T")


def invalid(
    name: str, requirement: str, value: object, error: type[Exception] = ValueError
) -> Exception:
    """The refusal every check raises: ``<name> must be <requirement>, got <value!r>``
    (a ``ValueError``; a ``TypeError`` where an object of another class was given)."""
    return error(f"{name} must be {requirement}, got {value!r}")


def is_positive_int(value: object) -> TypeGuard[int]:
    """True for an int >= 1; bool is an int subclass, but True must never become id 1."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_int(value: object, name: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` if it is an int (never a bool) in ``minimum..maximum``."""
    if (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= minimum
        and (maximum is None or value <= maximum)
    ):
        return value
    if maximum is not None:
        raise invalid(name, f"an int between {minimum} and {maximum}", value)
    raise invalid(name, "a positive int" if minimum == 1 else f"an int >= {minimum}", value)


def check_positive_int(value: object, name: str) -> int:
    """``value`` if it is a positive int; anything else (bool, float, str, 0) is refused."""
    return check_int(value, name)


ID_REQUIREMENT = "a positive int no larger than 2**63-1"


def is_id(value: object) -> TypeGuard[int]:
    """True for an id the API can hold: an int in 1..2**63-1 (never a bool)."""
    return is_positive_int(value) and value <= MAX_ID


def check_id(value: object, name: str = "id") -> int:
    """``value`` if it is an id the API can hold: an int in 1..2**63-1."""
    if is_id(value):
        return value
    raise invalid(name, ID_REQUIREMENT, value)


def check_number(value: object, name: str, *, minimum: float = 0.0, strict: bool = False) -> float:
    """``value`` as a float if it is a finite int or float >= ``minimum`` (> with ``strict``)."""
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > minimum if strict else value >= minimum)
    ):
        return float(value)
    raise invalid(name, f"a finite number {'>' if strict else '>='} {minimum:g}", value)


def _is_positive_number(value: object) -> TypeGuard[int | float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def check_seconds(value: object, name: str) -> float:
    """``value`` as a float if it is a finite number of seconds > 0."""
    if _is_positive_number(value):
        return float(value)
    raise invalid(name, "a finite number of seconds > 0", value)


def check_optional_seconds(value: object, name: str) -> float | None:
    """None, or ``value`` as a float if it is a finite number of seconds > 0."""
    if value is None:
        return None
    if _is_positive_number(value):
        return float(value)
    raise invalid(name, "a finite number of seconds > 0 or None", value)


def check_timeout(value: object, name: str = "timeout") -> httpx.Timeout:
    """``value`` as an ``httpx.Timeout`` bounded in every phase: seconds > 0 for all of
    them, or an ``httpx.Timeout`` whose connect, read, write and pool are each > 0."""
    if isinstance(value, httpx.Timeout):
        for phase, seconds in value.as_dict().items():
            if seconds is None:
                raise invalid(name, "finite in every phase", value)
            check_seconds(seconds, f"{name}.{phase}")
        return value
    if _is_positive_number(value):
        return httpx.Timeout(float(value))
    raise invalid(name, "a finite number of seconds > 0 or an httpx.Timeout", value)


def check_bool(value: object, name: str) -> bool:
    """``value`` if it is True or False (not 0, 1 or a string)."""
    if isinstance(value, bool):
        return value
    raise invalid(name, "True or False", value, TypeError)


def check_choice(value: T, name: str, choices: Collection[T]) -> T:
    """``value`` if it is one of ``choices``."""
    if isinstance(value, str | int) and value in choices:
        return value
    raise invalid(name, "one of " + ", ".join(map(repr, choices)), value)


def check_instance(value: object, name: str, kind: type[T], *, optional: bool = False) -> T | None:
    """``value`` if it is a ``kind`` (or None with ``optional``)."""
    if isinstance(value, kind) or (optional and value is None):
        return value
    requirement = f"a {kind.__name__}" + (" or None" if optional else "")
    raise invalid(name, requirement, value, TypeError)
