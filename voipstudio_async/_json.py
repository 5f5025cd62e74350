"""JSON bodies decoded with orjson when the ``fast`` extra is there, else the standard library."""

from __future__ import annotations

import json
from typing import Any

try:  # orjson is several times faster on 5000-row pages; it ships with the `fast` extra.
    import orjson

    def loads(content: bytes) -> Any:
        """Decode JSON bytes (raises ValueError on malformed input)."""
        return orjson.loads(content)

except ImportError:  # pragma: no cover - exercised only without the extra

    def loads(content: bytes) -> Any:
        """Decode JSON bytes (raises ValueError on malformed input)."""
        return json.loads(content)
