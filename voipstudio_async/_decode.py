"""JSON decoding of response bodies into generated models."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx

from ._errors import (
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ErrorDetail,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

try:  # orjson is several times faster on 5000-row pages; it ships with the `fast` extra.
    import orjson

    def loads(content: bytes) -> Any:
        """Decode JSON bytes (raises ValueError on malformed input)."""
        return orjson.loads(content)

except ImportError:  # pragma: no cover - exercised only without the extra

    def loads(content: bytes) -> Any:
        """Decode JSON bytes (raises ValueError on malformed input)."""
        return json.loads(content)


M = TypeVar("M")

# An HTML error page can be megabytes; the exception keeps enough to diagnose it.
_MAX_TEXT_BODY = 4096


def parse_model(
    response: httpx.Response, from_dict: Callable[[Mapping[str, Any]], M], *, what: str
) -> M:
    """Decode ``response`` and build a generated model, as APIResponseValidationError on drift."""
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
    try:
        return from_dict(body)
    # The generated from_dict signals a missing key, a wrong type or a bad value with
    # whatever the failing builtin raised.
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise APIResponseValidationError(
            f"{what}: response body does not match the spec ({type(exc).__name__}: {exc})",
            response=response,
            body=body,
        ) from exc


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def _parse_errors(raw: object) -> list[ErrorDetail]:
    # The API's own shape is [{field, message}]; third-party specs show [str], and
    # form-style validators answer {field: message | [messages]}. Accept all three.
    details: list[ErrorDetail] = []
    if isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict):
                field = entry.get("field")
                message = entry.get("message")
                details.append(
                    ErrorDetail(
                        field=str(field) if field not in (None, "") else None,
                        message=str(message) if message is not None else "",
                    )
                )
            elif entry is not None:
                details.append(ErrorDetail(field=None, message=str(entry)))
    elif isinstance(raw, dict):
        for field, value in raw.items():
            messages = value if isinstance(value, list) else [value]
            details.extend(ErrorDetail(field=str(field), message=str(m)) for m in messages)
    elif isinstance(raw, str) and raw:
        details.append(ErrorDetail(field=None, message=raw))
    return details


def make_status_error(
    response: httpx.Response,
    content: bytes,
    *,
    path_template: str | None,
    retry_after: float | None = None,
) -> APIStatusError:
    """Map an error response (whose body, possibly truncated, is ``content``) to its class."""
    body: object = None
    message = ""
    errors: list[ErrorDetail] = []
    if content.strip():
        try:
            body = loads(content)
        except ValueError:
            body = content[:_MAX_TEXT_BODY].decode("utf-8", errors="replace")
    if isinstance(body, dict):
        errors = _parse_errors(body.get("errors"))
        raw_message = body.get("message")
        if isinstance(raw_message, str) and raw_message:
            message = raw_message
        elif errors:
            message = errors[0].message
    if not message:
        message = response.reason_phrase or "HTTP error"
    status = response.status_code
    cls = _STATUS_ERRORS.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    return cls(
        message,
        response=response,
        body=body,
        errors=errors,
        path_template=path_template,
        retry_after=retry_after,
    )
