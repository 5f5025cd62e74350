"""``vs.statements``."""

from __future__ import annotations

from voipstudio_history_client.api.statements import delete_all_statements

from .._operations import operation
from ._verbs import DeleteAllEndpoint, _DeleteAll


class Statements(_DeleteAll):
    """Statements (``/statements``): delete only (``delete_all(confirm=True)``)."""

    _delete_all_op = DeleteAllEndpoint(operation(delete_all_statements))
