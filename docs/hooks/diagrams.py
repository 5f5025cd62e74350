"""mkdocs hook: the site's diagrams, drawn as SVG at build time (no network, no script).

``diagrams/errors.svg`` is the exception hierarchy read from ``voipstudio_async`` itself,
so it cannot drift from the code; ``diagrams/request.svg`` (a call's path through the
limiter, the gate, the transport and the retries) and ``diagrams/sync.svg`` (the
``voipstudio sync`` pipeline) are laid out here. Pages show them as images.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from mkdocs.structure.files import File, Files

FONT = "font-family='system-ui, -apple-system, Segoe UI, Roboto, sans-serif'"
BOX_FILL = "#eef0fb"
BOX_STROKE = "#3f51b5"
NOTE = "#555"


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    lines: Sequence[str]
    bold: bool = False

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def svg(self) -> str:
        parts = [
            f"<rect x='{self.x}' y='{self.y}' width='{self.w}' height='{self.h}' rx='6' "
            f"fill='{BOX_FILL}' stroke='{BOX_STROKE}' stroke-width='1.5'/>"
        ]
        top = self.cy - (len(self.lines) - 1) * 8
        for i, line in enumerate(self.lines):
            weight = " font-weight='600'" if self.bold and i == 0 else ""
            size = 14 if i == 0 else 12
            parts.append(
                f"<text x='{self.cx}' y='{top + i * 16 + 4}' text-anchor='middle' "
                f"font-size='{size}'{weight}>{escape(line)}</text>"
            )
        return "".join(parts)


def _document(width: float, height: float, title: str, body: Iterable[str]) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
        f"width='{width}' height='{height}' role='img' {FONT}>"
        f"<title>{escape(title)}</title>"
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='7' "
        "markerHeight='7' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' "
        f"fill='{BOX_STROKE}'/></marker></defs>"
        f"<rect width='{width}' height='{height}' fill='white'/>" + "".join(body) + "</svg>\n"
    )


def _arrow(points: Sequence[tuple[float, float]], label: str = "", at: int = 0) -> str:
    path = " ".join(f"{'M' if i == 0 else 'L'}{x},{y}" for i, (x, y) in enumerate(points))
    out = (
        f"<path d='{path}' fill='none' stroke='{BOX_STROKE}' stroke-width='1.5' "
        "marker-end='url(#arrow)'/>"
    )
    if label:
        (x1, y1), (x2, y2) = points[at], points[at + 1]
        # Above a horizontal segment, centred; beside a vertical one.
        place = (
            f"x='{(x1 + x2) / 2}' y='{y1 - 7}' text-anchor='middle'"
            if y1 == y2
            else f"x='{x1 + 7}' y='{(y1 + y2) / 2 + 4}'"
        )
        out += f"<text {place} font-size='12' fill='{NOTE}'>{escape(label)}</text>"
    return out


def errors_svg() -> str:
    """The exception hierarchy under ``VoipStudioError``, one row per public class."""
    import voipstudio_async

    public = {
        obj
        for name in voipstudio_async.__all__
        if isinstance(obj := getattr(voipstudio_async, name), type)
        and issubclass(obj, voipstudio_async.VoipStudioError)
    }
    rows: list[tuple[int, type]] = []

    def walk(cls: type, depth: int) -> None:
        rows.append((depth, cls))
        for sub in sorted(cls.__subclasses__(), key=lambda c: c.__name__):
            if sub in public:
                walk(sub, depth + 1)

    walk(voipstudio_async.VoipStudioError, 0)
    indent, row_h, box_h, box_w = 36, 34, 26, 250
    body = []
    parents: dict[int, float] = {}
    for i, (depth, cls) in enumerate(rows):
        x, y = 10 + depth * indent, 10 + i * row_h
        status = _status(cls)
        text = f"{cls.__name__}{f'  ({status})' if status else ''}"
        body.append(
            f"<rect x='{x}' y='{y}' width='{box_w}' height='{box_h}' rx='5' fill='{BOX_FILL}' "
            f"stroke='{BOX_STROKE}' stroke-width='1.2'/><text x='{x + 10}' y='{y + 17}' "
            f"font-size='13'>{escape(text)}</text>"
        )
        if depth:
            px = 10 + (depth - 1) * indent + 14
            body.append(
                f"<path d='M{px},{parents[depth - 1]} L{px},{y + box_h / 2} L{x},{y + box_h / 2}'"
                f" fill='none' stroke='{BOX_STROKE}' stroke-width='1.2'/>"
            )
        parents[depth] = y + box_h
    width = 20 + max(d for d, _ in rows) * indent + box_w
    return _document(width, 10 + len(rows) * row_h, "VoipStudioError hierarchy", body)


def _status(cls: type) -> str:
    statuses = {
        "BadRequestError": "400",
        "AuthenticationError": "401",
        "PermissionDeniedError": "403",
        "NotFoundError": "404",
        "ConflictError": "409",
        "RateLimitError": "429",
        "InternalServerError": "5xx",
    }
    return statuses.get(cls.__name__, "")


def request_svg() -> str:
    """One call's attempts: deadline, limiter, gate, transport, then retry or raise."""
    w, h = 180, 58
    col = [20, 330, 640, 950]
    call = Box(col[0], 20, w, h, ["vs.cdrs.get(42)", "opens the deadline"], bold=True)
    limiter = Box(col[1], 20, w, h, ["rate limiter", "RateLimit, local or Redis"], bold=True)
    gate = Box(col[2], 20, w, h, ["gate", "max_concurrency slots"], bold=True)
    transport = Box(col[3], 20, w, h, ["transport", "httpx or aiohttp"], bold=True)
    api = Box(col[3], 170, w, h, ["VoIPstudio API"], bold=True)
    decide = Box(col[2], 170, w, h, ["status or failure", "retry or raise?"], bold=True)
    retry = Box(col[1], 170, w, h, ["retry", "RetryPolicy + RetryBudget"], bold=True)
    ok = Box(col[2], 320, w, h, ["typed result", "Cdr, Page[Cdr], ..."], bold=True)
    raised = Box(col[3], 320, w, h, ["raised", "an APIStatusError, ..."], bold=True)
    refused = Box(col[0], 170, w, h, ["RateLimitWaitError", "or APITimeoutError"], bold=True)
    body = [b.svg() for b in (call, limiter, gate, transport, api, decide, retry, ok, raised)]
    body.append(refused.svg())
    body += [
        _arrow([(call.x + w, call.cy), (limiter.x, limiter.cy)]),
        _arrow([(limiter.x + w, limiter.cy), (gate.x, gate.cy)], "turn"),
        _arrow([(gate.x + w, gate.cy), (transport.x, transport.cy)], "slot"),
        _arrow([(transport.cx, transport.y + h), (api.cx, api.y)], "attempt"),
        _arrow([(api.x, api.cy), (decide.x + w, decide.cy)], "answer / error"),
        _arrow([(decide.cx, decide.y + h), (ok.cx, ok.y)], "2xx"),
        _arrow([(decide.x + w - 20, decide.y + h), (raised.x + 20, raised.y)]),
        _arrow([(decide.x, decide.cy), (retry.x + w, retry.cy)], "429, 5xx, timeout"),
        _arrow([(retry.cx, retry.y), (limiter.cx, limiter.y + h)], "wait, then again"),
        _arrow([(limiter.x + 30, limiter.y + h), (refused.x + w - 30, refused.y)]),
    ]
    body.append(
        f"<text x='{refused.cx}' y='{refused.y - 40}' text-anchor='middle' font-size='12' "
        f"fill='{NOTE}'>wait too long: not sent</text>"
    )
    body.append(
        f"<text x='20' y='410' font-size='12' fill='{NOTE}'>A wait past the deadline or "
        "max_retry_after is refused before anything is sent; writes that may have reached "
        "the server are never replayed.</text>"
    )
    return _document(1150, 425, "The path of a request", body)


def sync_svg() -> str:
    """``voipstudio sync``: source, dlt's extract/normalize/load, the destination."""
    w, h = 190, 70
    col = [20, 310, 600, 890]
    client = Box(col[0], 20, w, h, ["VoipStudio client", "from the environment"], bold=True)
    source = Box(
        col[1],
        20,
        w,
        h,
        ["history_source()", "walk by id from the cursor", "+ lookback re-read"],
        bold=True,
    )
    package = Box(col[2], 20, w, h, ["dlt load package", "~/.dlt/pipelines/..."], bold=True)
    dest = Box(col[3], 20, w, h, ["destination", "DuckDB, PostgreSQL, Delta"], bold=True)
    cursor = Box(col[3], 150, w, h, ["cursor (last id)", "committed with the rows"], bold=True)
    report = Box(col[2], 150, w, h, ["SyncReport", "rows per table"], bold=True)
    body = [b.svg() for b in (client, source, package, dest, cursor, report)]
    body += [
        _arrow([(client.x + w, client.cy), (source.x, source.cy)], "pages"),
        _arrow([(source.x + w, source.cy), (package.x, package.cy)], "rows"),
        _arrow([(package.x + w, package.cy), (dest.x, dest.cy)], "merge on id"),
        _arrow([(dest.cx, dest.y + h), (cursor.cx, cursor.y)]),
        _arrow([(cursor.x, cursor.cy), (report.x + w, report.cy)]),
        _arrow(
            [
                (cursor.cx, cursor.y + h),
                (cursor.cx, 250),
                (source.cx, 250),
                (source.cx, source.y + h),
            ],
            "the next run starts from the cursor",
            at=1,
        ),
    ]
    body.append(
        f"<text x='20' y='285' font-size='12' fill='{NOTE}'>A package an interrupted run left "
        "behind is loaded before a new walk starts: every row lands exactly once.</text>"
    )
    return _document(1100, 300, "The voipstudio sync pipeline", body)


DIAGRAMS = {
    "diagrams/errors.svg": errors_svg,
    "diagrams/request.svg": request_svg,
    "diagrams/sync.svg": sync_svg,
}


def on_files(files: Files, config: Any, **_: Any) -> Files:
    for path, draw in DIAGRAMS.items():
        files.append(File.generated(config, path, content=draw()))
    return files
