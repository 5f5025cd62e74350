"""``vs.users``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, TypeVar, overload

from voipstudio_history_client.api.users import export_user_cdrs_csv
from voipstudio_history_client.models import Cdr
from voipstudio_history_client.models.cdr_sort_field import (
    CDR_SORT_FIELD_VALUES,
    check_cdr_sort_field,
)
from voipstudio_history_client.types import UNSET

from .._download import Destination, DownloadResult, ProgressCallback
from .._download import save as _save
from .._fields import json_names
from .._filters import FilterArg, encode_filters
from .._operations import calls, operation
from .._request.requester import NOT_GIVEN, DeadlineArg
from ._base import Direction, Resource, _check_sort, check_id

_EXPORT = operation(export_user_cdrs_csv)
_CDR_FIELDS = tuple(json_names(Cdr).values())
R = TypeVar("R")


class Users(Resource):
    """Users (``/users``): the per-user CDR CSV export."""

    @overload
    async def export_cdrs_csv(
        self,
        user_id: int,
        dest: str | os.PathLike[str],
        *,
        filter: Sequence[FilterArg] | None = ...,
        sort: str | None = ...,
        direction: Direction | None = ...,
        on_progress: ProgressCallback | None = ...,
        deadline: DeadlineArg = ...,
    ) -> DownloadResult: ...

    @overload
    async def export_cdrs_csv(
        self,
        user_id: int,
        dest: Destination[R],
        *,
        filter: Sequence[FilterArg] | None = ...,
        sort: str | None = ...,
        direction: Direction | None = ...,
        on_progress: ProgressCallback | None = ...,
        deadline: DeadlineArg = ...,
    ) -> R: ...

    @calls(_EXPORT)
    async def export_cdrs_csv(
        self,
        user_id: int,
        dest: str | os.PathLike[str] | Destination[Any],
        *,
        filter: Sequence[FilterArg] | None = None,
        sort: str | None = None,
        direction: Direction | None = None,
        on_progress: ProgressCallback | None = None,
        deadline: DeadlineArg = NOT_GIVEN,
    ) -> Any:
        """Save a user's CDRs as CSV (``GET /users/{id}/cdrs.csv``) atomically to ``dest``.

        ``filter``, ``sort`` and ``direction`` work as in ``vs.cdrs.list()`` (checked
        before sending). ``dest`` is a file path or a directory (the file is then
        ``user-<id>-cdrs.csv``), or a ``Destination``: e.g.
        ``voipstudio_async.storage.S3Destination("s3://bucket/exports/")`` streams it
        into ``exports/user-<id>-cdrs.csv`` (a multipart upload, each part checked by
        S3 against its SHA-256; an ``s3://`` string is refused, saying so). On failure
        no file or object is left. An answer without a body (202/204) raises
        ``APIResponseValidationError``.

        Args:
            user_id: The user's id.
            dest: A file path, a directory to save into, or a ``Destination``.
            filter: Conditions, all of which a CDR must meet: ``(field, operator,
                value)`` tuples or ``Filter`` objects, by the API's field names.
            sort: The CDR field to order by (the API's name, e.g. ``calldate``).
            direction: ``"ASC"`` or ``"DESC"`` (with ``sort``).
            on_progress: Called with the bytes done and the total (None when unknown).
            deadline: Seconds for the whole call (default the client's).

        Returns:
            The file's path, size and SHA-256 (a ``StoredFile`` for an S3 destination).

        Raises:
            ValueError: An argument is refused before anything is sent.
            APIStatusError: The API answered with an error status (e.g. 404).
            APIResponseValidationError: The answer had no body (202/204).
            IncompleteDownloadError: The body was shorter than announced; no file is left.
        """
        uid = check_id(user_id, "user_id")
        _check_sort(sort, direction, CDR_SORT_FIELD_VALUES)
        encoded = encode_filters(filter, _CDR_FIELDS)
        kwargs = _EXPORT.build(
            id=uid,
            filter_=UNSET if encoded is None else encoded,
            sort=UNSET if sort is None else check_cdr_sort_field(sort),
            dir_=UNSET if direction is None else direction,
        )
        with self._requester.deadline(deadline):
            return await _save(
                self._requester,
                kwargs,
                dest,
                path_template=_EXPORT.path,
                default_name=f"user-{uid}-cdrs.csv",
                on_progress=on_progress,
            )
