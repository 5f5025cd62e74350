"""JSON decoding of response bodies into generated models."""

from __future__ import annotations

import asyncio
import logging
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import attrs
import httpx
from voipstudio_history_client.types import UNSET, Unset

from .._constants import MAX_PARSERS, YIELD_EVERY
from .._errors import (
    APIResponseValidationError,
)
from .._fields import json_names, type_names
from .._json import loads

M = TypeVar("M")


def _decode_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = loads(response.content)
    except ValueError as exc:
        raise APIResponseValidationError(
            f"{what}: response body is not JSON", response=response, body=None
        ) from exc
    if not isinstance(body, dict):
        raise APIResponseValidationError(
            f"{what}: expected a JSON object, got {type(body).__name__}",
            response=response,
            body=body,
        )
    return body


# The generated from_dict signals a missing key, a wrong type or a bad value with
# whatever the failing builtin raised.
_DRIFT = (KeyError, TypeError, ValueError, AttributeError)


def _drift(
    what: str, exc: Exception, response: httpx.Response, body: object
) -> APIResponseValidationError:
    return APIResponseValidationError(
        f"{what}: response body does not match the spec ({type(exc).__name__}: {exc})",
        response=response,
        body=body,
    )


# -- list pages ---------------------------------------------------------------------------
#
# Profiling a 100,000-CDR walk showed the generated ``Cdr.from_dict`` taking ~77% of the
# client's time (~9.6 us per CDR: a dict copy, 32 nested closures and 32 casts per
# call), against ~1.6 us for orjson. For models whose fields are all plain JSON values
# those closures are identities, so a builder that pops the same keys with the same
# defaults, calls the attrs ``__init__`` and keeps the leftovers in
# ``additional_properties`` gives equal objects at ~2 us. It is derived from the attrs
# fields, used only when every field has a plain type, and checked against
# ``from_dict`` on the first item it sees; anything else goes through ``from_dict``.

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

_log = logging.getLogger("voipstudio_async")

_PLAIN_TYPES = frozenset({"int", "float", "str", "bool", "None", "Unset", "list[str]", "list[int]"})


class ListBodyLike(Protocol[T_co]):
    """A generated ``*List`` model: ``data`` and ``total``."""

    @property
    def data(self) -> Sequence[T_co]: ...

    @property
    def total(self) -> int | Unset: ...


_builders: dict[type, Callable[[dict[str, Any]], Any] | None] = {}


def _make_builder(cls: type) -> Callable[[dict[str, Any]], Any] | None:
    """An equivalent of ``cls.from_dict`` for plain models, or None (use ``from_dict``).

    The builder takes ownership of the dict it is given (it pops the known keys; the
    rest becomes ``additional_properties``, as ``from_dict`` does with its copy).
    """
    if not attrs.has(cls) or not callable(getattr(cls, "to_dict", None)):
        return None
    fields = attrs.fields(cls)
    init = [f for f in fields if f.init]
    if [f.name for f in fields if not f.init] != ["additional_properties"]:
        return None
    for f in init:
        names = type_names(f.type)
        if f.kw_only or names is None or not names <= _PLAIN_TYPES:
            # A spec change (a `format: date-time`, a nested object) lands here: the
            # model is still built, by its slower from_dict.
            _log.debug(
                "fast builder off for %s: field %s has type %s", cls.__name__, f.name, f.type
            )
            return None
        if f.default is not attrs.NOTHING and f.default is not UNSET:
            return None
    try:
        keys = json_names(cls)
    except TypeError:
        return None
    args = ", ".join(
        f"pop({keys[f.name]!r})" if f.default is attrs.NOTHING else f"pop({keys[f.name]!r}, UNSET)"
        for f in init
    )
    # Usual case first: exactly the known keys, read in one C call, nothing left over.
    # When __init__ already gives each object a fresh dict, another one would only be
    # one more allocation per item for the cyclic GC to count.
    default: object = attrs.fields_dict(cls)["additional_properties"].default
    fresh = getattr(default, "factory", None) is dict and not getattr(default, "takes_self", True)
    source = (
        "def build(d):\n"
        f"    if len(d) == {len(init)}:\n"
        "        try:\n"
        "            obj = cls(*get_all(d))\n"
        "        except KeyError:\n"
        "            pass\n"
        "        else:\n"
        + ("" if fresh else "            obj.additional_properties = {}\n")
        + "            return obj\n"
        "    pop = d.pop\n"
        f"    obj = cls({args})\n"
        "    obj.additional_properties = d\n"
        "    return obj\n"
    )
    if len(init) < 2:  # itemgetter of one key returns the value, not a tuple
        return None
    get_all = operator.itemgetter(*(keys[f.name] for f in init))
    namespace: dict[str, Any] = {"cls": cls, "UNSET": UNSET, "get_all": get_all}
    exec(compile(source, f"<voipstudio_async builder for {cls.__name__}>", "exec"), namespace)
    build: Callable[[dict[str, Any]], Any] = namespace["build"]
    return build


def _builder_for(
    cls: type, raw: object, expected: object
) -> Callable[[dict[str, Any]], Any] | None:
    if cls in _builders:
        return _builders[cls]
    build = _make_builder(cls)
    if build is not None:
        try:
            ok = isinstance(raw, dict) and build(dict(raw)) == expected
        except Exception:
            ok = False
        if not ok:
            build = None
    _builders[cls] = build
    return build


def _data_item_class(envelope: object, item: object, *, listed: bool = True) -> type | None:
    """The item class when the envelope's ``data`` is declared as ``list[<that class>]``
    (``listed``) or as exactly that class."""
    cls = type(item)
    envelope_cls: Any = type(envelope)
    try:
        field = attrs.fields_dict(envelope_cls)["data"]
    except (TypeError, KeyError, attrs.exceptions.NotAnAttrsClassError):
        return None
    parts = type_names(field.type)
    if parts is None:
        return None
    if not listed:
        return cls if parts == {cls.__name__} else None
    if f"list[{cls.__name__}]" not in parts or not parts <= {
        f"list[{cls.__name__}]",
        "Unset",
        "None",
    }:
        return None
    return cls


# -- single objects -----------------------------------------------------------------------
#
# The same builders serve one-object responses: a model that is itself plain
# (``parse_model``) or the plain ``data`` of a one-item envelope such as ``CdrItem``
# (``parse_data``). Which builder a parser gets is decided on its first response,
# checked against ``from_dict`` as for list pages.

_UNKNOWN: Any = object()
_model_builders: dict[Callable[..., Any], Callable[[dict[str, Any]], Any] | None] = {}
_data_builders: dict[Callable[..., Any], Callable[[dict[str, Any]], Any] | None] = {}


class _HasData(Protocol[T_co]):
    @property
    def data(self) -> T_co: ...


def _built(
    build: Callable[[dict[str, Any]], Any], raw: dict[str, Any], response: httpx.Response, what: str
) -> Any:
    """``build(raw)``, drift reported with the whole body (the builder consumed ``raw``)."""
    try:
        return build(raw)
    except _DRIFT as exc:
        raise _drift(what, exc, response, loads(response.content)) from exc


def parse_model(
    response: httpx.Response, from_dict: Callable[[Mapping[str, Any]], M], *, what: str
) -> M:
    """Decode ``response`` and build a generated model, as APIResponseValidationError on drift."""
    body = _decode_object(response, what)
    build = _model_builders.get(from_dict, _UNKNOWN)
    if build is not None and build is not _UNKNOWN:
        built: M = _built(build, body, response, what)
        return built
    try:
        model = from_dict(body)
    except _DRIFT as exc:
        raise _drift(what, exc, response, body) from exc
    if build is _UNKNOWN and len(_model_builders) < MAX_PARSERS:
        _model_builders[from_dict] = _builder_for(type(model), body, model)
    return model


def parse_data(
    response: httpx.Response, from_dict: Callable[[Mapping[str, Any]], _HasData[M]], *, what: str
) -> M:
    """``from_dict(body).data`` of a one-item envelope, the item built fast when it is plain."""
    body = _decode_object(response, what)
    raw = body.get("data")
    build = _data_builders.get(from_dict, _UNKNOWN)
    if build is not None and build is not _UNKNOWN and raw.__class__ is dict:
        built: M = _built(build, raw, response, what)
        return built
    try:
        envelope = from_dict(body)
    except _DRIFT as exc:
        raise _drift(what, exc, response, body) from exc
    item = envelope.data
    if build is _UNKNOWN and len(_data_builders) < MAX_PARSERS:
        cls = _data_item_class(envelope, item, listed=False)
        _data_builders[from_dict] = None if cls is None else _builder_for(cls, raw, item)
    return item


async def parse_list(
    response: httpx.Response,
    parse: Callable[[Mapping[str, Any]], ListBodyLike[T]],
    *,
    what: str,
) -> tuple[list[T], int | Unset]:
    """A list page's items and ``total``, as ``parse`` (``*List.from_dict``) would give them.

    Built as ``parse_rows`` builds them, all at once, with a yield to the event loop
    every ``YIELD_EVERY`` items.
    """
    rows, _ids, total = parse_rows(response, parse, what=what)
    if not isinstance(rows, Rows):
        return list(rows), total
    items: list[T] = []
    for item in rows:
        items.append(item)
        if len(items) % YIELD_EVERY == 0:
            await asyncio.sleep(0)
    return items, total


class Rows(Generic[T]):
    """A list page's items for a walk: each built only when the walk reaches it.

    One pass: iterating builds every item in order and releases each decoded row as
    its model is made, so a walk's models die young (cheap for the cyclic GC) instead
    of a page of them surviving into older generations. ``ids`` are the rows' raw
    ``id`` values, known before any item is built.
    """

    __slots__ = (
        "_build",
        "_first",
        "_from_dict",
        "_plain",
        "_response",
        "_rest",
        "_what",
        "ids",
    )

    def __init__(
        self,
        first: T,
        data: list[Any],
        build: Callable[[dict[str, Any]], Any],
        from_dict: Callable[[Any], T],
        *,
        response: httpx.Response,
        what: str,
    ) -> None:
        """``data`` is the decoded rows (taken over); ``first`` is row 0, already built."""
        first_id = getattr(first, "id", None)
        try:
            # Every row an object with an id (the usual page): read in C.
            self.ids: tuple[object, ...] = (first_id, *map(_ROW_ID, data[1:]))
            self._plain = True
        except (KeyError, TypeError):
            self.ids = (
                first_id,
                *(row.get("id") if row.__class__ is dict else None for row in data[1:]),
            )
            self._plain = False
        data.reverse()  # popped from the end, in page order
        data.pop()  # row 0, already built
        data.insert(0, _END)  # popped last: ends iter(data.pop, _END)
        self._first: T | None = first
        self._rest = data
        self._build = build
        self._from_dict = from_dict
        self._response = response
        self._what = what

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[T]:
        first, self._first = self._first, None
        if first is None:
            return
        yield first
        rest, build, from_dict = self._rest, self._build, self._from_dict
        try:
            if self._plain:
                # The loop runs in C: each row is popped (released) as its model is built.
                yield from map(build, iter(rest.pop, _END))
            else:
                for raw in iter(rest.pop, _END):
                    yield build(raw) if raw.__class__ is dict else from_dict(raw)
        except _DRIFT as exc:
            body = loads(self._response.content)  # the rows were consumed: re-read them
            raise _drift(self._what, exc, self._response, body) from exc


_ROW_ID = operator.itemgetter("id")
_END: Any = object()


def parse_rows(
    response: httpx.Response,
    parse: Callable[[Mapping[str, Any]], ListBodyLike[T]],
    *,
    what: str,
) -> tuple[Sequence[T] | Rows[T], tuple[object, ...], int | Unset]:
    """A list page: its items (built lazily when the model allows), their ids, ``total``.

    The envelope and the first item go through ``parse``; the other items through a
    fast builder when the item model allows one (see above) and it reproduces the
    first item exactly, else every item is built at once by ``parse``.
    """
    body = _decode_object(response, what)
    data = body.get("data")
    if isinstance(data, list) and len(data) >= 2:
        try:
            envelope = parse({**body, "data": data[:1]})
        except _DRIFT as exc:
            raise _drift(what, exc, response, body) from exc
        first = list(envelope.data)
        cls = _data_item_class(envelope, first[0]) if len(first) == 1 else None
        build = _builder_for(cls, data[0], first[0]) if cls is not None else None
        if cls is not None and build is not None:
            from_dict: Callable[[Any], T] = cls.from_dict  # type: ignore[attr-defined]
            rows = Rows(first[0], data, build, from_dict, response=response, what=what)
            return rows, rows.ids, envelope.total
    try:
        model = parse(body)
    except _DRIFT as exc:
        raise _drift(what, exc, response, body) from exc
    items = list(model.data)
    return items, tuple(getattr(item, "id", None) for item in items), model.total
