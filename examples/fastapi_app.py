"""A FastAPI application serving a contact's recent calls from VoIPstudio.

One `VoipStudio` per application: created in the lifespan, shared by every
request (its connection pool and concurrency limit are the application's),
closed on shutdown. SDK errors become HTTP responses in one exception handler.

Run it (`pip install voipstudio-async fastapi uvicorn`)::

    export VOIPSTUDIO_USER_ID=123456 VOIPSTUDIO_API_KEY=...
    uvicorn examples.fastapi_app:app
"""

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from voipstudio_async import (
    APITimeoutError,
    NotFoundError,
    RateLimitError,
    VoipStudio,
    VoipStudioError,
)
from voipstudio_async.types import Cdr, Unset

logger = logging.getLogger(__name__)
router = APIRouter()


class Call(BaseModel):
    """One call, as seen from the contact's side."""

    id: int
    calldate: str
    direction: Literal["made", "received"]
    other_party: str
    duration: int
    disposition: str


def get_voipstudio(request: Request) -> VoipStudio:
    """The application's client (see `create_app`'s lifespan)."""
    client: VoipStudio = request.app.state.voipstudio
    return client


Client = Annotated[VoipStudio, Depends(get_voipstudio)]
PhoneNumber = Annotated[str, Path(pattern=r"^\+?[0-9]{3,20}$")]


def _text(value: object) -> str:
    return "" if value is None or isinstance(value, Unset) else str(value)


def _call(cdr: Cdr, number: str) -> Call:
    made = cdr.src == number
    return Call(
        id=cdr.id,
        calldate=_text(cdr.calldate),
        direction="made" if made else "received",
        other_party=_text(cdr.dst if made else cdr.src),
        duration=cdr.duration if isinstance(cdr.duration, int) else 0,
        disposition=_text(cdr.disposition),
    )


@router.get("/contacts/{number}/calls")
async def recent_calls(
    number: PhoneNumber,
    vs: Client,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Call]:
    """The contact's most recent calls, made and received, newest first."""
    # Filters are ANDed: "from or to this number" is two queries, sent together.
    made, received = await asyncio.gather(
        *(
            vs.cdrs.list(
                filter=[(field, "eq", number)],
                sort="calldate",
                direction="DESC",
                limit=limit,
            )
            for field in ("src", "dst")
        )
    )
    calls = {
        cdr.id: _call(cdr, number) for cdr in [*made.items, *received.items]
    }
    newest_first = sorted(
        calls.values(), key=lambda c: (c.calldate, c.id), reverse=True
    )
    return newest_first[:limit]


@router.get("/calls/{call_id}")
async def call(call_id: Annotated[int, Path(ge=1)], vs: Client) -> Call:
    """One call by its CDR id, seen from the caller's side."""
    cdr = await vs.cdrs.get(call_id)
    return _call(cdr, _text(cdr.src))


async def voipstudio_error(request: Request, exc: Exception) -> JSONResponse:
    """Map an SDK error onto the response this application's clients see."""
    if isinstance(exc, NotFoundError):
        return JSONResponse({"detail": "Not found"}, status_code=404)
    if isinstance(exc, RateLimitError):
        # VoIPstudio throttles this application, not its caller: a 503 to retry.
        headers: dict[str, str] = {}
        if exc.retry_after:
            headers["Retry-After"] = str(math.ceil(exc.retry_after))
        return JSONResponse(
            {"detail": "VoIPstudio is busy, retry later"},
            status_code=503,
            headers=headers,
        )
    if isinstance(exc, APITimeoutError):
        return JSONResponse(
            {"detail": "VoIPstudio did not answer in time"}, status_code=504
        )
    # Anything else (credentials refused, a 5xx, a lost connection) is an
    # upstream failure. SDK messages never hold secrets, but the caller needs
    # none of it.
    logger.warning("VoIPstudio request failed: %s", exc)
    return JSONResponse(
        {"detail": "VoIPstudio request failed"}, status_code=502
    )


def create_app(
    make_client: Callable[[], VoipStudio] = VoipStudio.from_env,
) -> FastAPI:
    """The application; `make_client` builds its one client when it starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with make_client() as vs:
            app.state.voipstudio = vs
            yield

    app = FastAPI(title="Recent calls", lifespan=lifespan)
    app.include_router(router)
    app.add_exception_handler(VoipStudioError, voipstudio_error)
    return app


app = create_app()
