"""The exception hierarchy (see docs/design.md).

Messages are built from the status line, the error body's ``message`` and the path
*template*: never from URLs (queries may hold filters), headers or credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ._constants import MAX_TEXT_BODY
from ._json import loads

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BulkOperationError",
    "ClientClosedError",
    "ConflictError",
    "ErrorDetail",
    "IncompleteDownloadError",
    "InternalServerError",
    "MissingExtraError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitWaitError",
    "TwoFactorRequiredError",
    "VoipStudioError",
]


class VoipStudioError(Exception):
    """Base class of every error this SDK raises."""


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of an error body's ``errors``: a field (if any) and what is wrong with it."""

    field: str | None
    """The field the problem is about, or None for the request as a whole."""
    message: str
    """What is wrong with it, as the API said."""


class APIStatusError(VoipStudioError):
    """The API answered with a status >= 400."""

    status_code: int
    """The HTTP status, e.g. 404."""
    message: str
    """The error body's ``message``, or the status's reason phrase."""
    errors: list[ErrorDetail]
    """The error body's ``errors``: one entry per field the API refused."""
    body: object
    """The error body, decoded from JSON when it was JSON."""
    response: httpx.Response
    """The response (its body read)."""
    path_template: str | None
    """The operation's path template, e.g. ``/cdrs/{id}`` (never the URL)."""
    retry_after: float | None
    """Seconds the server asked to wait (``Retry-After``), when it sent a usable value."""
    after_ambiguous_failure: bool
    """True when an earlier attempt of this request may have been carried out (it timed
    out or lost its connection after sending, or got a 500/502/504) and was retried:
    this answer may describe the state that attempt left, e.g. 404 for a done DELETE."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: object,
        errors: list[ErrorDetail] | None = None,
        path_template: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = response.status_code
        self.message = message
        self.errors = errors or []
        self.body = body
        self.response = response
        self.path_template = path_template
        self.retry_after = retry_after
        self.after_ambiguous_failure = False
        super().__init__(self._describe())

    @property
    def request_id(self) -> str | None:
        """The server's request id header, if it sent one."""
        value: str | None = self.response.headers.get("x-request-id")
        return value

    def _describe(self) -> str:
        text = f"{self.status_code} {self.message}"
        if self.path_template:
            try:
                request = self.response.request
                method, path = request.method, _filled(self.path_template, request.url.path)
            except RuntimeError:  # a Response built by hand has no request
                method, path = "?", self.path_template
            text += f" ({method} {path})"
        details = "; ".join(
            f"{e.field}: {e.message}" if e.field else e.message for e in self.errors
        )
        return f"{text}: {details}" if details and details != self.message else text


class BadRequestError(APIStatusError):
    """400: the request was invalid (see ``errors`` for the fields)."""


class AuthenticationError(APIStatusError):
    """401: credentials missing, wrong or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the credentials may not access this resource."""


class NotFoundError(APIStatusError):
    """404: no such resource."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` says how long the server asked to wait."""


class RateLimitWaitError(RateLimitError):
    """The client's own rate limit refused to send: nothing was sent.

    The request's turn was ``retry_after`` seconds away: past the call's deadline
    (``past_deadline``; a turn must leave at least half the time that was left) or
    longer than the client's ``max_retry_after``. An app can answer 503 with this
    ``Retry-After``; a real timeout is ``APITimeoutError``. ``response`` is a stand-in
    429 for the request that was not sent (no body).

    Args:
        request: the request that was not sent.
        path_template: its operation's path template (what the message names).
        wait: seconds until the rate limit's turn (``retry_after``).
        past_deadline: True when the turn was past the deadline's allowance, False when
            it was longer than ``max_retry_after``.
    """

    def __init__(
        self, request: httpx.Request, *, path_template: str, wait: float, past_deadline: bool
    ) -> None:
        self.past_deadline = past_deadline
        why = "after the deadline" if past_deadline else "longer than max_retry_after"
        super().__init__(
            f"the rate limit allows this request in {wait:.2f}s, {why}; not sent",
            response=httpx.Response(429, request=request),
            body=None,
            path_template=path_template,
            retry_after=wait,
        )


class InternalServerError(APIStatusError):
    """A 5xx answer (including non-standard ones such as Cloudflare's 522)."""


class APIConnectionError(VoipStudioError):
    """The request failed in transport; ``__cause__`` is the httpx exception."""


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool)."""


class APIResponseValidationError(VoipStudioError):
    """A successful response whose body does not match the spec.

    Args:
        message: What does not match.
    """

    response: httpx.Response
    """The response (its body read)."""
    body: object
    """The body as decoded, when it could be."""

    def __init__(self, message: str, *, response: httpx.Response, body: object = None) -> None:
        self.response = response
        self.body = body
        super().__init__(message)


class TwoFactorRequiredError(VoipStudioError):
    """POST /login answered 202: finish with ``await vs.complete_two_factor(code, nonce)``."""

    nonce: str
    """The challenge's nonce, for ``complete_two_factor()``."""

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
        super().__init__(
            "two-factor authentication required: call "
            "`await client.complete_two_factor(code, exc.nonce)` with the code sent to the user"
        )


class IncompleteDownloadError(VoipStudioError):
    """The body ended before ``expected`` bytes arrived."""

    expected: int
    """Bytes announced (``Content-Length``, or the item's size)."""
    received: int
    """Bytes that arrived."""

    def __init__(self, expected: int, received: int) -> None:
        self.expected = expected
        self.received = received
        super().__init__(f"download incomplete: received {received} of {expected} bytes")


class MissingExtraError(VoipStudioError, ImportError):
    """What was asked for needs an extra that is not installed (e.g. ``s3://`` needs ``s3``).

    Raised before anything is sent; the message names the ``pip install`` line.
    """


class BulkOperationError(VoipStudioError):
    """Raised by ``BulkResult.raise_for_failures()``; ``result`` is that BulkResult.

    Args:
        message: The error's text.
    """

    result: Any
    """The ``BulkResult``: its ``failed`` outcomes carry each item's error."""

    def __init__(self, result: Any, message: str = "bulk operation had failures") -> None:
        self.result = result
        super().__init__(message)


class ClientClosedError(VoipStudioError):
    """The client was used after ``aclose()`` (or after its ``async with`` block).

    Args:
        message: The error's text.
    """

    def __init__(self, message: str = "the VoipStudio client is closed") -> None:
        super().__init__(message)


def other_loop_error() -> RuntimeError:
    """What both built-in transports raise when used from a second event loop.

    A RuntimeError, as asyncio raises for loop misuse: a programming error, not an API
    or network failure. Pooled connections belong to the loop that opened them.
    """
    return RuntimeError(
        "this VoipStudio client was first used in another event loop (an earlier "
        "asyncio.run()?) and its connections belong to that loop: create the client "
        "inside the loop that uses it"
    )


def _filled(template: str, path: str) -> str:
    """``/cdrs/{id}`` with the request's values (``/cdrs/42``): the ids say which item.

    Only path segments (ids), never the query, which may hold filters and credentials;
    ``template`` itself when the path does not end the template's way.
    """
    wanted = template.strip("/").split("/")
    sent = path.strip("/").split("/")[-len(wanted) :]
    if len(sent) != len(wanted) or any(
        w != s and not (w.startswith("{") and w.endswith("}"))
        for w, s in zip(wanted, sent, strict=True)
    ):
        return template
    return "/" + "/".join(sent)


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
            body = content[:MAX_TEXT_BODY].decode("utf-8", errors="replace")
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
