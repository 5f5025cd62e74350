"""Chunked bulk PATCH, id DELETE and confirmed collection-wide DELETE engines.

Resource classes call these with the generated request builders, so URLs and bodies
come from the spec. Every engine validates all its input before the first request,
and reports one outcome per input item, in input order, whatever happened to the
other chunks.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

from ._checks import ID_REQUIREMENT, check_positive_int, is_id
from ._constants import DEFAULT_BULK_CHUNK_ITEMS, DEFAULT_BULK_CONCURRENCY, MAX_LISTED_PROBLEMS
from ._errors import BulkOperationError, NotFoundError
from ._fields import json_names
from ._request.requester import Requester, RetryPolicy

__all__ = [
    "BulkResult",
    "DeleteAllResult",
    "ItemOutcome",
    "PatchModel",
    "bulk_delete",
    "bulk_patch",
    "delete_all",
    "patch_model_fields",
    "run_each",
]

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound="PatchModel")


class PatchModel(Protocol):
    """What the generated `*Patch` models (`CdrPatch`, `VoicemessagePatch`) provide."""

    id: int

    def to_dict(self) -> dict[str, Any]: ...

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self: ...


@dataclass(frozen=True, slots=True)
class ItemOutcome(Generic[T]):
    """What happened to one input item."""

    id: int
    """The item's id."""
    ok: bool
    """True when the item was done."""
    error: Exception | None = None
    """Why the item failed: the exception its chunk (or download) raised."""
    value: T | None = None
    """Per-item payload, e.g. the `DownloadResult` of `download_many`."""


@dataclass(frozen=True, slots=True)
class BulkResult(Generic[T]):
    """One `ItemOutcome` per input item, in input order (duplicates included)."""

    outcomes: tuple[ItemOutcome[T], ...] = ()
    """One outcome per input item, in input order."""

    @property
    def succeeded(self) -> list[ItemOutcome[T]]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[ItemOutcome[T]]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def ok(self) -> bool:
        """True when every item succeeded (and for an empty input)."""
        return all(o.ok for o in self.outcomes)

    def raise_for_failures(self) -> None:
        """Raise `BulkOperationError(self)` if any item failed.

        Raises:
            BulkOperationError: At least one item failed; its ``result`` is this one.
        """
        failed = len(self.failed)
        if failed:
            raise BulkOperationError(self, f"{failed} of {len(self)} items failed")

    def __len__(self) -> int:
        return len(self.outcomes)

    def __iter__(self) -> Iterator[ItemOutcome[T]]:
        return iter(self.outcomes)


@dataclass(frozen=True, slots=True)
class DeleteAllResult:
    """Answer to a collection-wide DELETE."""

    status_code: int
    """The HTTP status: 204 deleted, 202 accepted and finished later."""

    @property
    def accepted(self) -> bool:
        """True for 202: the server queued the deletion and finishes it later."""
        return self.status_code == 202


def _raise_problems(problems: list[str]) -> None:
    if not problems:
        return
    shown = "; ".join(problems[:MAX_LISTED_PROBLEMS])
    more = len(problems) - MAX_LISTED_PROBLEMS
    suffix = f"; and {more} more" if more > 0 else ""
    raise ValueError(f"invalid input, nothing was sent: {shown}{suffix}")


def _chunks(seq: Sequence[T], size: int) -> list[Sequence[T]]:
    return [seq[i : i + size] for i in range(0, len(seq), size)]


async def run_each(
    items: Sequence[T],
    work: Callable[[T], Awaitable[R]],
    concurrency: int,
    on_done: Callable[[T, R | Exception], Awaitable[None]] | None = None,
) -> list[R | Exception]:
    """Run ``work`` on every item, at most ``concurrency`` at once (the worker pool of
    the bulk engines and ``download_many``).

    Returns each item's result, or the Exception it raised, in input order: one item's
    failure never stops the others. ``on_done(item, result)`` runs as each one ends; an
    exception it raises cancels the work still in flight and propagates as raised.
    """
    results: dict[int, R | Exception] = {}
    # One iterator shared by the workers: taking the next index never awaits, so no
    # item is taken twice and at most `concurrency` are in flight.
    pending = iter(range(len(items)))

    async def worker() -> None:
        for index in pending:
            result: R | Exception
            try:
                result = await work(items[index])
            except Exception as exc:  # recorded per item: one must not hide the others
                result = exc
            results[index] = result
            if on_done is not None:
                await on_done(items[index], result)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(items))):
                group.create_task(worker())
    except BaseExceptionGroup as errors:
        # Only on_done (or a cancellation) can fail a worker: raise it as it was raised.
        if len(errors.exceptions) == 1:
            raise errors.exceptions[0] from None
        raise
    return [results[index] for index in range(len(items))]


async def _run_chunks(
    chunks: Sequence[Sequence[T]],
    send: Callable[[Sequence[T]], Awaitable[None]],
    concurrency: int,
) -> list[Exception | None]:
    """Send every chunk with at most `concurrency` in flight; return each chunk's error."""
    results = await run_each(chunks, send, concurrency)
    return [result if isinstance(result, Exception) else None for result in results]


def _outcomes(
    input_ids: Sequence[int],
    chunks: Sequence[Sequence[int]],
    errors: Sequence[Exception | None],
    item_errors: Mapping[int, Exception] | None = None,
) -> BulkResult[None]:
    """One outcome per input id: its chunk's error, else its own error in ``item_errors``."""
    error_by_id = {
        item_id: error or (item_errors or {}).get(item_id)
        for chunk, error in zip(chunks, errors, strict=True)
        for item_id in chunk
    }
    return BulkResult(
        tuple(
            ItemOutcome(id=item_id, ok=error_by_id[item_id] is None, error=error_by_id[item_id])
            for item_id in input_ids
        )
    )


def patch_model_fields(model_cls: type[PatchModel]) -> frozenset[str]:
    """The JSON names of a generated patch model's fields (``type``, not ``type_``)."""
    return frozenset(json_names(model_cls).values())


def _normalise_patch_items(
    items: Iterable[Mapping[str, Any] | M], model_cls: type[M], known_fields: Collection[str]
) -> tuple[list[int], list[M]]:
    """Validate every item; return the input ids and the distinct models to send."""
    input_ids: list[int] = []
    unique: dict[int, tuple[M, dict[str, Any]]] = {}
    problems: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, model_cls):
            data = item.to_dict()
        elif isinstance(item, Mapping):
            data = dict(item)
        else:
            raise TypeError(
                f"item {index}: expected a mapping or {model_cls.__name__}, "
                f"got {type(item).__name__}"
            )
        item_id = data.get("id")
        unknown = sorted(str(key) for key in data if key not in known_fields)
        if not is_id(item_id):
            problems.append(f"item {index}: id must be {ID_REQUIREMENT}, got {item_id!r}")
            continue
        if unknown:
            problems.append(f"item {index} (id {item_id}): unknown field(s) {unknown}")
            continue
        if len(data) == 1:
            problems.append(f"item {index} (id {item_id}): no field to update")
            continue
        try:
            model = model_cls.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"item {index} (id {item_id}): {type(exc).__name__}: {exc}")
            continue
        wire = model.to_dict()
        input_ids.append(item_id)
        seen = unique.get(item_id)
        if seen is None:
            unique[item_id] = (model, wire)
        elif seen[1] != wire:
            problems.append(
                f"item {index}: id {item_id} appears again with different values "
                f"({seen[1]!r} vs {wire!r})"
            )
    _raise_problems(problems)
    return input_ids, [model for model, _ in unique.values()]


async def bulk_patch(
    requester: Requester,
    items: Iterable[Mapping[str, Any] | M],
    *,
    build_kwargs: Callable[[list[M]], Mapping[str, Any]],
    model_cls: type[M],
    path_template: str,
    known_fields: Collection[str] | None = None,
    chunk_size: int = DEFAULT_BULK_CHUNK_ITEMS,
    concurrency: int = DEFAULT_BULK_CONCURRENCY,
) -> BulkResult[None]:
    """PATCH `items` (`{"id": ..., field: value}` mappings or `model_cls` instances) in chunks.

    Every item is validated before anything is sent (`ValueError` lists the problems):
    a positive int id, only `known_fields` (default: the model's fields), at least one
    field besides the id, and no id repeated with different values (identical repeats
    are sent once and reported at each position). Chunks use `RetryPolicy.NO_REPLAY`:
    after an ambiguous failure (read timeout, connection lost after sending) the chunk
    is not replayed and its items are reported failed with that error. A chunk answered
    404 (one of its ids is unknown) is sent again item by item, so only the unknown ids
    fail with `NotFoundError`: the server applies nothing of a PATCH it answers 404.

    `build_kwargs` turns one chunk into request kwargs, e.g.
    `lambda body: update_cdrs._get_kwargs(body=body)`.
    """
    check_positive_int(chunk_size, "chunk_size")
    check_positive_int(concurrency, "concurrency")
    fields = patch_model_fields(model_cls) if known_fields is None else known_fields
    input_ids, models = _normalise_patch_items(items, model_cls, fields)
    if not models:
        # As delete([]): an empty batch is almost always a caller's filter gone wrong.
        raise ValueError("items is empty: nothing to update")

    item_errors: dict[int, Exception] = {}

    async def send(chunk: Sequence[M]) -> None:
        try:
            await requester.send(
                build_kwargs(list(chunk)), policy=RetryPolicy.NO_REPLAY, path_template=path_template
            )
        except NotFoundError:
            if len(chunk) == 1:
                raise
            # The server applies nothing of a PATCH it answers 404 (docs/design.md), so
            # the chunk's items are sent one by one and only the unknown ids fail.
            singles = [[model] for model in chunk]
            for [model], error in zip(
                singles, await _run_chunks(singles, send, concurrency), strict=True
            ):
                if error is not None:
                    item_errors[model.id] = error

    chunks = _chunks(models, chunk_size)
    errors = await _run_chunks(chunks, send, concurrency)
    return _outcomes(input_ids, [[m.id for m in chunk] for chunk in chunks], errors, item_errors)


def _validate_ids(ids: Iterable[int]) -> list[int]:
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise TypeError(f"ids must be an iterable of ints, got {type(ids).__name__}")
    id_list = list(ids)
    if not id_list:
        # An empty list would build the collection path: the delete-everything call.
        raise ValueError("ids is empty: nothing to delete (use delete_all(confirm=True))")
    _raise_problems(
        [
            f"ids[{index}]: expected {ID_REQUIREMENT}, got {value!r}"
            for index, value in enumerate(id_list)
            if not is_id(value)
        ]
    )
    return id_list


def _check_ids_in_path(kwargs: Mapping[str, Any], ids: Sequence[int]) -> None:
    # Last line of defence against a builder that drops the ids from the path.
    url = str(kwargs.get("url", ""))
    expected = ",".join(str(i) for i in ids)
    if not url.rstrip("/").rsplit("/", 1)[-1] == expected:
        raise RuntimeError(f"refusing to send DELETE {url!r}: the path does not name the ids")


async def bulk_delete(
    requester: Requester,
    ids: Iterable[int],
    *,
    build_kwargs: Callable[[list[int]], Mapping[str, Any]],
    path_template: str,
    chunk_size: int = DEFAULT_BULK_CHUNK_ITEMS,
    concurrency: int = DEFAULT_BULK_CONCURRENCY,
) -> BulkResult[None]:
    """DELETE resources by id, `chunk_size` ids per request (`/monitors/1,2,3`).

    An empty `ids` raises `ValueError` and sends nothing: it must never become the
    collection-wide DELETE. Repeated ids are deleted once and reported at each
    position. A failing chunk reports its error on each of its ids, except for 404:
    the API refuses a whole chunk when one of its ids is missing, so its ids are then
    deleted one by one and only the missing ones fail with `NotFoundError`. A 404 that
    answers a retry after an attempt that may have been carried out (a timeout, a lost
    connection) means that attempt deleted the ids: they are reported deleted.
    `build_kwargs` is e.g. `lambda ids: delete_monitors._get_kwargs(id=ids)`.
    """
    check_positive_int(chunk_size, "chunk_size")
    check_positive_int(concurrency, "concurrency")
    input_ids = _validate_ids(ids)
    chunks = _chunks(list(dict.fromkeys(input_ids)), chunk_size)
    item_errors: dict[int, Exception] = {}

    async def send(chunk: Sequence[int], maybe_done: bool = False) -> None:
        """``maybe_done``: an earlier request for these ids may have deleted them."""
        kwargs = build_kwargs(list(chunk))
        _check_ids_in_path(kwargs, chunk)
        try:
            await requester.send(kwargs, policy=RetryPolicy.IDEMPOTENT, path_template=path_template)
        except NotFoundError as exc:
            gone_is_done = maybe_done or exc.after_ambiguous_failure
            if len(chunk) == 1:
                if gone_is_done:
                    return
                raise
            singles = [[item_id] for item_id in chunk]
            retry = functools.partial(send, maybe_done=gone_is_done)
            for [item_id], error in zip(
                singles, await _run_chunks(singles, retry, concurrency), strict=True
            ):
                if error is not None:
                    item_errors[item_id] = error

    errors = await _run_chunks(chunks, send, concurrency)
    return _outcomes(input_ids, chunks, errors, item_errors)


async def delete_all(
    requester: Requester,
    *,
    build_kwargs: Callable[[], Mapping[str, Any]],
    path_template: str,
    confirm: bool = False,
) -> DeleteAllResult:
    """DELETE a whole collection; only with `confirm=True` (else `ValueError`, nothing sent).

    Sent once (`RetryPolicy.NO_REPLAY`). The result tells 202 (accepted, the server
    deletes asynchronously) from 204 (done).
    """
    if confirm is not True:
        raise ValueError(
            f"DELETE {path_template} deletes every record of the collection: "
            "pass confirm=True to really do it"
        )
    response = await requester.send(
        build_kwargs(), policy=RetryPolicy.NO_REPLAY, path_template=path_template
    )
    return DeleteAllResult(response.status_code)
