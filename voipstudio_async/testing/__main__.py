"""`python -m voipstudio_async.testing`: serve the fake VoIPstudio on loopback."""

from __future__ import annotations

import argparse
import errno
import shlex
import socket
import sys
from collections.abc import Sequence

from ._fake import FakeVoipStudio
from ._ratelimit import parse_schedule

EXIT_NO_SERVER = 1
"""uvicorn (the ``testing`` extra) is not installed."""


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return int(text)


def parser() -> argparse.ArgumentParser:
    """The command-line options."""
    p = argparse.ArgumentParser(
        prog="python -m voipstudio_async.testing",
        description="Serve a fake VoIPstudio History API on loopback.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port", type=_port, default=8765, help="port; 0 picks a free one (default 8765)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cdrs", type=_count, default=10_000)
    p.add_argument("--calltracking", type=_count, default=None)
    p.add_argument("--monitors", type=_count, default=500)
    p.add_argument("--msdrs", type=_count, default=1_000)
    p.add_argument("--chats", type=_count, default=100)
    p.add_argument("--voicemessages", type=_count, default=200)
    p.add_argument("--users", type=_count, default=5)
    p.add_argument("--prefix", default="/v1.1/voipstudio")
    p.add_argument("--ranges", action="store_true", help="advertise and honour Range requests")
    p.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        metavar="RPS",
        help="answer 429 (with Retry-After) beyond this many requests per second",
    )
    p.add_argument(
        "--rate-limit-schedule",
        type=parse_schedule,
        default=None,
        metavar="RPS[@S],...",
        help="a rate limit that changes: e.g. 200,50@10,200@20 (200/s, 50/s from 10 s, "
        "200/s again from 20 s after the server starts)",
    )
    p.add_argument("--two-factor-code", default=None, help="require 2FA with this code")
    p.add_argument(
        "--accounts",
        type=_count,
        default=None,
        metavar="N",
        help="serve N accounts (each its own credentials and data) instead of one, and "
        "write their accounts file for voipstudio fleet (see --accounts-file)",
    )
    p.add_argument(
        "--accounts-file",
        default="voipstudio-accounts.toml",
        metavar="PATH",
        help="with --accounts: where to write the accounts file; the API keys go to "
        "PATH's stem + .secrets/ (default voipstudio-accounts.toml)",
    )
    p.add_argument(
        "--latency",
        type=float,
        default=None,
        metavar="SECONDS",
        help="answer every request after this delay, like a distant API",
    )
    p.add_argument(
        "--big-monitor",
        type=_count,
        action="append",
        default=[],
        metavar="BYTES",
        help="add a recording of this size (repeatable); its id is printed",
    )
    return p


def _bind_error(host: str, port: int, exc: OSError) -> str:
    hint = " (pick another, or --port 0 for a free one)" if exc.errno == errno.EADDRINUSE else ""
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}"


def main(argv: Sequence[str] | None = None) -> int:
    """Build the fake, print shell `export` lines for it, and serve until SIGINT/SIGTERM."""
    cli = parser()
    args = cli.parse_args(argv)
    try:
        from ._server import BIG_IDS, QuietExitServer, bind, loopback_url, uvicorn_config
    except ImportError as exc:
        print(
            f"{cli.prog}: error: serving on loopback needs {exc.name or 'uvicorn'}: "
            "pip install 'voipstudio-async[testing]'",
            file=sys.stderr,
        )
        return EXIT_NO_SERVER
    try:
        # Before the (slow) data is built, so a busy port fails at once.
        sock = bind(args.host, args.port)
    except OSError as exc:
        cli.error(_bind_error(args.host, args.port, exc))
    if args.accounts:
        return _serve_accounts(args, sock)
    fake = FakeVoipStudio(
        args.seed,
        cdrs=args.cdrs,
        calltracking=args.calltracking,
        monitors=args.monitors,
        msdrs=args.msdrs,
        chats=args.chats,
        voicemessages=args.voicemessages,
        users=args.users,
        prefix=args.prefix,
        ranges=args.ranges,
        two_factor_code=args.two_factor_code,
    )
    if args.rate_limit is not None:
        fake.rate_limit(args.rate_limit)
    if args.rate_limit_schedule is not None:
        scheduled = fake.rate_limit(args.rate_limit_schedule[0][1])
        if scheduled is not None:  # always: the rate is > 0
            scheduled.follow(args.rate_limit_schedule)
    if args.latency:
        fake.add_latency("*", args.latency)
    big = [fake.add_monitor(size=size) for size in args.big_monitor]
    creds = fake.credentials
    exports = {
        "VOIPSTUDIO_BASE_URL": loopback_url(fake, sock),
        "VOIPSTUDIO_USER_ID": str(creds.user_id),
        "VOIPSTUDIO_API_KEY": creds.api_key,
    }
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    # A comment: exporting both kinds of credentials would make from_env() refuse them.
    print(
        "# or sign in with email/password instead of the API key:"
        f" VOIPSTUDIO_EMAIL={shlex.quote(creds.email)}"
        f" VOIPSTUDIO_PASSWORD={shlex.quote(creds.password)}"
    )
    if big:
        print(f"{BIG_IDS}{','.join(map(str, big))}")
    print("# ready; Ctrl-C stops the server", flush=True)
    QuietExitServer(uvicorn_config(fake.app)).run(sockets=[sock])
    sock.close()
    return 0


def _serve_accounts(args: argparse.Namespace, sock: socket.socket) -> int:
    from ._accounts import FakeAccounts
    from ._server import QuietExitServer, uvicorn_config

    fleet = FakeAccounts(args.accounts, seed=args.seed, prefix=args.prefix, latency=args.latency)
    host, port = sock.getsockname()[:2]
    base_url = f"http://{host}:{port}{fleet.prefix}"
    path = fleet.write_accounts_file(args.accounts_file, base_url)
    print(f"export VOIPSTUDIO_BASE_URL={shlex.quote(base_url)}")
    print(f"# {len(fleet)} accounts: voipstudio fleet sync --accounts {shlex.quote(str(path))}")
    print("# ready; Ctrl-C stops the server", flush=True)
    QuietExitServer(uvicorn_config(fleet.app)).run(sockets=[sock])
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
