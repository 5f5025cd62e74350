"""``vs.users``."""

from __future__ import annotations

from ._base import Resource


class Users(Resource):
    """Users (``/users``): the per-user CDR CSV export (added with the bulk/download verbs)."""
