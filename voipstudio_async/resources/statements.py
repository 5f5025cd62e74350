"""``vs.statements``."""

from __future__ import annotations

from ._base import Resource


class Statements(Resource):
    """Statements (``/statements``): delete only (added with the bulk/download verbs)."""
