"""OpenTelemetry spans of the SDK's calls, when the ``otel`` extra (opentelemetry-api) is there.

Each facade method declared with ``@calls`` is a client span named
``voipstudio <resource>.<method>`` (``traced``); each HTTP attempt is a child span
named ``<METHOD> <path template>`` (``traced_transport``, wrapping the transport of
the SDK's own client on both backends). Retries and rate-limit waits are events of
the operation span. Attributes are the HTTP client semantic conventions plus
``voipstudio.*``; no URL, query, header or body is ever recorded, so credentials and
filter values cannot reach a span.

An attempt span sets OpenTelemetry's "suppress HTTP instrumentation" context key, so
httpx's own instrumentation (opentelemetry-instrumentation-httpx) skips the same
attempt; when that key is already set, no attempt span is made here either.

Without opentelemetry-api both functions return what they were given: the import is
tried once, when this module is imported, and nothing runs per request. An API that is
installed but fails to import, or lacks the private suppress keys read from
``opentelemetry.context``, leaves tracing off the same way, with one WARNING. With the API
but no tracer provider set (every span would be a no-op), each call and attempt costs
one provider lookup and runs untraced; a walk activates its span once per call to
``__anext__`` with a context built once, not through ``use_span`` per item.
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

import httpx

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

_log = logging.getLogger("voipstudio_async")

try:
    from opentelemetry import context as _context
    from opentelemetry import trace as _trace
except ImportError as error:
    _trace = None  # type: ignore[assignment]
    # Without the otel extra, tracing is off by choice; an API that fails to import is not.
    if error.name not in {"opentelemetry", "opentelemetry.context", "opentelemetry.trace"}:
        _log.warning("OpenTelemetry cannot be imported (%s): tracing is off", error)
else:
    # Private names, where OpenTelemetry keeps them since 1.20 (instrumentation libraries
    # read them): checked once, here. Without them an attempt could be traced twice.
    _SUPPRESS_HTTP_INSTRUMENTATION_KEY: Final[str] = getattr(
        _context, "_SUPPRESS_HTTP_INSTRUMENTATION_KEY", ""
    )
    _SUPPRESS_INSTRUMENTATION_KEY: Final[str] = getattr(
        _context, "_SUPPRESS_INSTRUMENTATION_KEY", ""
    )
    if not (_SUPPRESS_HTTP_INSTRUMENTATION_KEY and _SUPPRESS_INSTRUMENTATION_KEY):
        _log.warning(
            "opentelemetry-api %s lacks opentelemetry.context.%s: tracing is off",
            importlib.metadata.version("opentelemetry-api"),
            " and ".join(
                name
                for name in ("_SUPPRESS_HTTP_INSTRUMENTATION_KEY", "_SUPPRESS_INSTRUMENTATION_KEY")
                if not getattr(_context, name, "")
            ),
        )
        _trace = None  # type: ignore[assignment]

__all__ = ["note_rate_limit_wait", "note_retry", "traced", "traced_transport"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

# Call arguments recorded on the operation span: small ints only, never filters or ids.
_NUMBERS: Final = {
    "page": "voipstudio.page",
    "limit": "voipstudio.limit",
    "page_size": "voipstudio.page_size",
    "max_items": "voipstudio.max_items",
}


@dataclass(slots=True)
class _Operation:
    """The operation span of the running call, shared by its attempts and retries."""

    span: Span
    method: str | None
    template: str | None
    retries: int = 0
    context: Any = None
    """The OpenTelemetry context with ``span`` current (built once, attached per step)."""
    _pattern: re.Pattern[str] | None = field(default=None, init=False)
    _ended: bool = field(default=False, init=False)

    def end(self) -> None:
        """End the span once (a walk ends it when exhausted and again when closed)."""
        if not self._ended:
            self._ended = True
            self.span.end()

    def template_of(self, request: httpx.Request) -> str | None:
        """The operation's path template when ``request`` is one of its requests.

        A login the auth flow sends inside the same call is not, and gets none.
        """
        if self.template is None or request.method != self.method:
            return None
        if self._pattern is None:
            parts = re.split(r"\{[^}]*\}", self.template)
            self._pattern = re.compile("[^/]+".join(map(re.escape, parts)) + "$")
        return self.template if self._pattern.search(request.url.path) else None


_CURRENT: ContextVar[_Operation | None] = ContextVar("voipstudio_operation", default=None)


_TRACER: list[Any] = [None, None]  # [provider, its tracer]


# get_tracer_provider() reads os.environ on every call until a provider is set (one may
# be named there); its module global answers "none set yet" without that, twice per call.
_ENV_PROVIDER: Final = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ


def _tracer() -> Tracer | None:
    """The SDK's tracer, or None while no tracer provider is set (spans would be no-ops)."""
    if getattr(_trace, "_TRACER_PROVIDER", True) is None and not _ENV_PROVIDER:
        return None
    provider = _trace.get_tracer_provider()
    if isinstance(provider, _trace.ProxyTracerProvider | _trace.NoOpTracerProvider):
        return None
    if _TRACER[0] is not provider:
        from . import __version__

        _TRACER[:] = [provider, provider.get_tracer("voipstudio_async", __version__)]
    tracer: Tracer = _TRACER[1]
    return tracer


def _fail(span: Span, error_type: str) -> None:
    # The class name only: an exception's message may quote a server's error body.
    span.set_attribute("error.type", error_type)
    span.set_status(_trace.StatusCode.ERROR, error_type)


def _resource_of(owner: object) -> str:
    # Resource classes are named after their namespace (Cdrs -> vs.cdrs).
    return type(owner).__name__.lower()


def _start(
    tracer: Tracer,
    owner: object,
    function: Callable[..., Any],
    operations: tuple[Any, ...],
    signature: inspect.Signature,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> _Operation:
    resource = _resource_of(owner)
    ops = [getattr(owner, op, None) if isinstance(op, str) else op for op in operations]
    ops = [getattr(op, "op", op) for op in ops if op is not None]
    op = ops[0] if len(ops) == 1 else None
    span = tracer.start_span(
        f"voipstudio {resource}.{function.__name__}", kind=_trace.SpanKind.CLIENT
    )
    if span.is_recording():
        span.set_attribute("voipstudio.resource", resource)
        if op is not None:
            span.set_attribute("voipstudio.operation", op.id)
            span.set_attribute("http.request.method", op.method)
            span.set_attribute("url.template", op.path)
        try:
            bound = signature.bind(owner, *args, **kwargs)
        except TypeError:
            pass  # the call itself raises it
        else:
            bound.apply_defaults()
            for name, key in _NUMBERS.items():
                value = bound.arguments.get(name)
                if isinstance(value, int) and not isinstance(value, bool):
                    span.set_attribute(key, value)
    return _Operation(
        span,
        None if op is None else op.method,
        None if op is None else op.path,
        context=_trace.set_span_in_context(span),
    )


class _Active:
    """Make ``operation`` current (its span and ``_CURRENT``); mark the span on failure.

    A class, not a generator: a walk enters it once per item.
    """

    __slots__ = ("_operation", "_tokens")

    def __init__(self, operation: _Operation) -> None:
        self._operation = operation

    def __enter__(self) -> None:
        self._tokens = (_CURRENT.set(self._operation), _context.attach(self._operation.context))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        current, attached = self._tokens
        _context.detach(attached)
        _CURRENT.reset(current)
        # StopAsyncIteration is a walk's normal end.
        if exc_type is not None and not issubclass(exc_type, StopAsyncIteration):
            _fail(self._operation.span, exc_type.__qualname__)


class _TracedIterator(Generic[T]):
    """An ``iterate()`` walk whose operation span lasts until it ends or is closed."""

    def __init__(self, inner: AsyncIterator[T], operation: _Operation) -> None:
        self._inner = inner
        self._operation = operation

    def __aiter__(self) -> _TracedIterator[T]:
        return self

    async def __anext__(self) -> T:
        try:
            with _Active(self._operation):
                return await self._inner.__anext__()
        except BaseException:
            self._operation.end()
            raise

    async def aclose(self) -> None:
        """Close the walk (its open page, if any) and end the span."""
        close = getattr(self._inner, "aclose", None)
        try:
            if close is not None:
                with _Active(self._operation):
                    await close()
        finally:
            self._operation.end()


class _TracedContext(Generic[T]):
    """A ``stream()`` context whose operation span lasts until the block exits."""

    def __init__(self, inner: Any, operation: _Operation) -> None:
        self._inner = inner
        self._operation = operation

    async def __aenter__(self) -> T:
        try:
            with _Active(self._operation):
                entered: T = await self._inner.__aenter__()
                return entered
        except BaseException:
            self._operation.end()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            with _Active(self._operation):
                if exc_type is not None:
                    _fail(self._operation.span, exc_type.__qualname__)
                suppressed: bool | None = await self._inner.__aexit__(exc_type, exc, tb)
                return suppressed
        finally:
            self._operation.end()


def traced(function: F, operations: tuple[Any, ...]) -> F:
    """``function`` (a facade method) made to run inside its operation span."""
    if _trace is None:
        return function
    signature = inspect.signature(function)

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            # Called by another operation (part of it), or nobody records spans.
            if _CURRENT.get() is not None or (tracer := _tracer()) is None:
                return await function(self, *args, **kwargs)
            operation = _start(tracer, self, function, operations, signature, args, kwargs)
            try:
                with _Active(operation):
                    return await function(self, *args, **kwargs)
            finally:
                operation.end()

        return call  # type: ignore[return-value]

    @functools.wraps(function)
    def open_(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Walks and streams: the span lives as long as the object the method returns.
        if _CURRENT.get() is not None or (tracer := _tracer()) is None:
            return function(self, *args, **kwargs)
        operation = _start(tracer, self, function, operations, signature, args, kwargs)
        try:
            with _Active(operation):
                result = function(self, *args, **kwargs)
        except BaseException:
            operation.end()
            raise
        if hasattr(result, "__anext__"):
            return _TracedIterator(result, operation)
        if hasattr(result, "__aenter__"):
            return _TracedContext(result, operation)
        operation.end()
        return result

    return open_  # type: ignore[return-value]


class _TracedTransport(httpx.AsyncBaseTransport):
    """One client span per HTTP attempt around any httpx transport."""

    def __init__(self, wrapped: httpx.AsyncBaseTransport) -> None:
        self.wrapped = wrapped
        """The transport that does the work."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        tracer = _tracer()
        if (
            tracer is None
            or _context.get_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY)
            or _context.get_value(_SUPPRESS_INSTRUMENTATION_KEY)
        ):
            return await self.wrapped.handle_async_request(request)
        operation = _CURRENT.get()
        template = None if operation is None else operation.template_of(request)
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        with tracer.start_as_current_span(
            request.method if template is None else f"{request.method} {template}",
            kind=_trace.SpanKind.CLIENT,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            if span.is_recording():
                span.set_attribute("http.request.method", request.method)
                span.set_attribute("server.address", url.host)
                span.set_attribute("server.port", port)
                if template is not None:
                    span.set_attribute("url.template", template)
            token = _context.attach(_context.set_value(_SUPPRESS_HTTP_INSTRUMENTATION_KEY, True))
            try:
                response = await self.wrapped.handle_async_request(request)
            except BaseException as exc:
                _fail(span, type(exc).__qualname__)
                raise
            finally:
                _context.detach(token)
            status = response.status_code
            span.set_attribute("http.response.status_code", status)
            if status >= 400:
                _fail(span, str(status))
            if operation is not None and operation.span.is_recording():
                operation.span.set_attribute("http.response.status_code", status)
                operation.span.set_attribute("server.address", url.host)
                operation.span.set_attribute("server.port", port)
            return response

    async def aclose(self) -> None:
        await self.wrapped.aclose()


def traced_transport(transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
    """``transport`` with a span per attempt (itself without opentelemetry-api)."""
    return transport if _trace is None else _TracedTransport(transport)


def note_retry(cause: int | str, attempt: int, delay: float) -> None:
    """A retry event (and the running count) on the current operation span."""
    operation = _CURRENT.get() if _trace is not None else None
    if operation is None or not operation.span.is_recording():
        return
    operation.retries += 1
    operation.span.set_attribute("voipstudio.retry_count", operation.retries)
    operation.span.add_event(
        "voipstudio.retry",
        {
            "voipstudio.retry.cause": str(cause),
            "voipstudio.retry.attempt": attempt,
            "voipstudio.retry.delay_s": delay,
        },
    )


def note_rate_limit_wait(delay: float) -> None:
    """A wait for the client's rate limit, as an event of the current operation span."""
    operation = _CURRENT.get() if _trace is not None else None
    if operation is not None and operation.span.is_recording():
        operation.span.add_event("voipstudio.rate_limit.wait", {"voipstudio.wait_s": delay})
