"""``run()``: parse, connect, dispatch, and turn errors into messages and exit codes."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from typing import TextIO

from .._client import DEFAULT_MAX_CONCURRENCY, VoipStudio
from .._errors import (
    AuthenticationError,
    BadRequestError,
    PermissionDeniedError,
    TwoFactorRequiredError,
    VoipStudioError,
)
from ._args import parse_args
from ._commands import Confirm, Context, dispatch
from ._credentials import check_credentials
from ._defaults import CLI_MAX_RETRIES, PROGRESS_INTERVAL
from ._errors import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_USAGE, UserError
from ._fake import fake_client
from ._fleet import fleet_command
from ._media import describe_error
from ._output import Ui
from ._sync import sync_command

__all__ = ["Confirm", "run"]


def _connect(args: argparse.Namespace, environ: Mapping[str, str]) -> VoipStudio:
    # Never let the client's gate be tighter than the downloads asked for.
    concurrency = max(DEFAULT_MAX_CONCURRENCY, getattr(args, "concurrency", 0))
    if args.fake:
        return fake_client(max_retries=CLI_MAX_RETRIES, max_concurrency=concurrency)
    check_credentials(environ)
    try:
        return VoipStudio.from_env(
            environ, max_retries=CLI_MAX_RETRIES, max_concurrency=concurrency
        )
    except ValueError as exc:
        raise UserError(f"credentials: {exc}") from None


def _terminal_confirm(ui: Ui) -> Confirm:
    def confirm(question: str) -> bool:
        try:
            return ui.ask(question).strip().lower() in ("y", "yes")
        except EOFError:
            return False

    return confirm


async def run(
    argv: Sequence[str] | None = None,
    *,
    client: VoipStudio | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    confirm: Confirm | None = None,
    progress_interval: float = PROGRESS_INTERVAL,
) -> int:
    """The ``voipstudio`` command as a coroutine; returns the exit code.

    ``client`` replaces the one built from ``--fake`` or the environment (and is not
    closed). ``confirm`` answers the purge question; by default the terminal is asked
    when stdin is one. ``progress_interval``: seconds between progress lines when stderr
    is not a terminal.

    Args:
        argv: The arguments after the program name (default ``sys.argv[1:]``).
        client: A client to run against instead of the one ``--fake`` or the
            environment would build; it is not closed.
        stdout: Where results go (default ``sys.stdout``).
        stderr: Where progress, warnings and errors go (default ``sys.stderr``).
        environ: Where credentials and settings are read (default ``os.environ``).
        confirm: Answers the purge question, given its text (default: the terminal
            is asked when stdin is one; otherwise ``--purge`` needs ``--yes``).
        progress_interval: Seconds between progress lines when stderr is not a
            terminal.

    Returns:
        The exit code (``EXIT_OK`` 0, ``EXIT_FAILED`` 1, ``EXIT_USAGE`` 2,
        ``EXIT_INTERRUPTED`` 130, ``EXIT_BROKEN_PIPE`` 141); errors are reported on
        ``stderr``, not raised.

    Raises:
        asyncio.CancelledError: The command was cancelled (Ctrl-C, SIGTERM), after
            saying how far it got.
    """
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the problem
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    ui = Ui(
        stdout=stdout or sys.stdout,
        stderr=stderr or sys.stderr,
        quiet=args.quiet,
        verbose=args.verbose,
        progress_interval=progress_interval,
    )
    if confirm is None and sys.stdin is not None and sys.stdin.isatty():
        confirm = _terminal_confirm(ui)
    ctx = Context(ui, confirm)
    try:
        async with AsyncExitStack() as stack:
            stack.enter_context(ui.logging())
            if args.command == "sync":  # builds its clients in dlt's own event loop
                env = os.environ if environ is None else environ
                return await sync_command(args, ui, env, CLI_MAX_RETRIES)
            if args.command == "fleet":  # each account's client is built on its worker
                return await fleet_command(args, ui, os.environ if environ is None else environ)
            if client is None:
                client = await stack.enter_async_context(
                    _connect(args, os.environ if environ is None else environ)
                )
            return await dispatch(client, args, ctx)
    except asyncio.CancelledError:
        # Ctrl-C or SIGTERM: say how far the run got; files already in place stay valid.
        ui.warn(f"interrupted: {ui.so_far()}")
        raise
    except UserError as exc:
        ui.error(str(exc))
        return EXIT_USAGE
    except (AuthenticationError, PermissionDeniedError) as exc:
        ui.error(f"the API refused the credentials: {exc}")
        return EXIT_USAGE
    except TwoFactorRequiredError:
        ui.error(
            "this account needs two-factor sign-in, which the command cannot prompt for: "
            "set VOIPSTUDIO_TOKEN, or VOIPSTUDIO_USER_ID and VOIPSTUDIO_API_KEY"
        )
        return EXIT_USAGE
    except BadRequestError as exc:
        ui.error(f"the API rejected the request: {exc}")
        return EXIT_USAGE
    except ValueError as exc:  # the SDK's own input checks, before anything is sent
        ui.error(str(exc))
        return EXIT_USAGE
    except VoipStudioError as exc:
        ui.error(f"API error: {exc}")
        return EXIT_FAILED
    except BrokenPipeError:  # the reader went away (`| head`): end quietly, as Unix tools do
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        ui.error(describe_error(exc))
        return EXIT_FAILED
