"""Which generated operation each facade method sends, declared once on the method.

Every operation of the spec is a generated module named after its operationId
(``voipstudio_history_client.api.cdrs.get_cdr``). ``operation(module)`` wraps it once:
its request builder, its HTTP method and its path template, read from the URL the
builder itself produces, so logs and errors never carry a hand-typed path. A facade
method says what it sends with ``@calls(...)``; ``operations_of(cls)`` reads that back,
and the coverage test checks it against every operationId of the spec.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar
from urllib.parse import unquote

from ._tracing import traced

__all__ = ["Operation", "calls", "operation", "operations_of"]

F = TypeVar("F", bound=Callable[..., Any])
_CALLS = "__voipstudio_operations__"


@dataclass(frozen=True, slots=True)
class Operation:
    """A generated operation: its operationId, request builder, HTTP method and path."""

    id: str
    build: Callable[..., dict[str, Any]]
    method: str
    path: str


class _NoBody:
    """Stands in for a request body (a model or a list of them): serialises to nothing."""

    def __iter__(self) -> Any:
        return iter(())

    def to_dict(self) -> dict[str, Any]:
        return {}


def _placeholder_kwargs(build: Callable[..., Any]) -> tuple[list[Any], dict[str, Any]]:
    """Arguments that make ``build`` write each path parameter as ``{name}``."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in inspect.signature(build).parameters.values():
        if param.default is not inspect.Parameter.empty:
            continue
        if param.kind is inspect.Parameter.KEYWORD_ONLY:  # the request body
            kwargs[param.name] = _NoBody()
        elif str(param.annotation).startswith("list["):  # `{ids}` joined as 1,2,3
            args.append([f"{{{param.name}}}"])
        else:
            args.append(f"{{{param.name}}}")
    return args, kwargs


@functools.cache
def operation(module: ModuleType) -> Operation:
    """The ``Operation`` of a generated operation module."""
    build: Callable[..., dict[str, Any]] = module._get_kwargs
    args, kwargs = _placeholder_kwargs(build)
    built: Mapping[str, Any] = build(*args, **kwargs)
    return Operation(
        id=module.__name__.rpartition(".")[2],
        build=build,
        method=str(built["method"]).upper(),
        path=unquote(str(built["url"])),
    )


def calls(*operations: Operation | str) -> Callable[[F], F]:
    """Declare the operations a facade method sends.

    A string names a class attribute holding an endpoint with an ``op`` (shared verbs
    in ``resources/_verbs.py``, whose operation depends on the class they serve). With
    opentelemetry-api installed the method runs inside its operation span (``_tracing``).
    """

    def mark(function: F) -> F:
        setattr(function, _CALLS, operations)
        return traced(function, operations)

    return mark


def operations_of(cls: type) -> dict[str, tuple[str, ...]]:
    """Public method name -> the operationIds it sends (an empty tuple when undeclared)."""
    found: dict[str, tuple[str, ...]] = {}
    for name in dir(cls):
        member = getattr(cls, name)
        if name.startswith("_") or not callable(member):
            continue
        declared = getattr(member, _CALLS, ())
        found[name] = tuple(
            getattr(cls, op).op.id if isinstance(op, str) else op.id for op in declared
        )
    return found
