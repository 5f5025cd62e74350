"""``vs.statements``."""

from __future__ import annotations

from voipstudio_history_client.api.statements import delete_all_statements

from .._bulk import DeleteAllResult
from .._bulk import delete_all as _delete_all
from ._base import Resource


class Statements(Resource):
    """Statements (``/statements``): delete only."""

    async def delete_all(self, *, confirm: bool = False) -> DeleteAllResult:
        """Delete every statement (``DELETE /statements``): only with ``confirm=True``.

        Without it, ``ValueError`` and nothing is sent. Never retried once sent.
        """
        return await _delete_all(
            self._requester,
            build_kwargs=delete_all_statements._get_kwargs,
            path_template="/statements",
            confirm=confirm,
        )
