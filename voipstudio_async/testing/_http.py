"""JSON encoding and the small response type the app sends."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

try:
    import orjson

    def dumps(obj: Any) -> bytes:
        """Encode `obj` as compact UTF-8 JSON."""
        return orjson.dumps(obj)

    def loads(data: bytes) -> Any:
        """Decode JSON bytes."""
        return orjson.loads(data)

except ImportError:  # pragma: no cover - orjson is optional

    def dumps(obj: Any) -> bytes:
        """Encode `obj` as compact UTF-8 JSON."""
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

    def loads(data: bytes) -> Any:
        """Decode JSON bytes."""
        return json.loads(data)


JSON = b"application/json"
Headers = list[tuple[bytes, bytes]]


@dataclass
class Response:
    """A response before it is sent: the body is bytes or an iterable of chunks."""

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes | Iterable[bytes] = b""
    length: int | None = None

    def content_length(self) -> int:
        """Length of the full body, as announced in `Content-Length`."""
        if self.length is not None:
            return self.length
        assert isinstance(self.body, bytes)
        return len(self.body)


class ApiError(Exception):
    """An error answer with the real API's body: `{message, errors: [{field, message}]}`."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        headers: Headers | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors if errors is not None else []
        self.headers = headers or []

    def response(self) -> Response:
        """The JSON response for this error."""
        body = dumps({"message": self.message, "errors": self.errors})
        return Response(self.status, [(b"content-type", JSON), *self.headers], body)


def bad_request(field_name: str, message: str) -> ApiError:
    """A 400 validation error about one field."""
    return ApiError(400, "Validation error", [{"field": field_name, "message": message}])


def not_found(message: str = "Resource not found") -> ApiError:
    """A 404 with the real API's message."""
    return ApiError(404, "Resource not found", [{"field": "id", "message": message}])


def json_response(body: bytes, status: int = 200) -> Response:
    """A JSON response from already-encoded bytes."""
    return Response(status, [(b"content-type", JSON)], body)
