"""Which credentials the environment holds, explained in terms of its variables."""

from __future__ import annotations

from collections.abc import Mapping

from ._errors import UserError

__all__ = ["check_credentials"]

# Each way to sign in, as the variables VoipStudio.from_env() reads for it.
_KINDS: tuple[tuple[str, ...], ...] = (
    ("VOIPSTUDIO_USER_ID", "VOIPSTUDIO_API_KEY"),
    ("VOIPSTUDIO_TOKEN",),
    ("VOIPSTUDIO_EMAIL", "VOIPSTUDIO_PASSWORD"),
)
_HOW = (
    "set VOIPSTUDIO_USER_ID and VOIPSTUDIO_API_KEY, or VOIPSTUDIO_TOKEN, or VOIPSTUDIO_EMAIL "
    "and VOIPSTUDIO_PASSWORD (or add --fake to try the command on a fake account)"
)


def check_credentials(environ: Mapping[str, str]) -> None:
    """Raise ``UserError`` unless exactly one complete kind of credentials is set."""
    present = [kind for kind in _KINDS if any(environ.get(name) for name in kind)]
    if not present:
        raise UserError(f"no credentials in the environment: {_HOW}")
    if len(present) > 1:
        names = " and ".join("/".join(kind) for kind in present)
        raise UserError(f"contradictory credentials: {names} are all set; keep one kind")
    missing = [name for name in present[0] if not environ.get(name)]
    if missing:
        raise UserError(f"{' and '.join(present[0])} go together: {missing[0]} is not set")
