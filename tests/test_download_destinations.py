"""A download into a directory that is missing (or is a file) fails before anything is
sent, naming the destination the caller gave, never the hidden ``.part`` file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _support import client_of

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio

# (dest under tmp_path as the caller spells it, the file the SDK would write, the error)
SHAPES = [
    ("missing/a.mp3", "missing/a.mp3", FileNotFoundError),
    ("missing/deeper/a.mp3", "missing/deeper/a.mp3", FileNotFoundError),
    ("missing/", "missing/{name}", FileNotFoundError),
    ("a-file/a.mp3", "a-file/a.mp3", NotADirectoryError),
    ("a-file/", "a-file/{name}", NotADirectoryError),
]

DOWNLOADS: dict[str, tuple[Callable[[VoipStudio, Any], Any], str]] = {
    "monitors": (lambda vs, dest: vs.monitors.download(1, dest), "monitor-1.mp3"),
    "voicemessages": (lambda vs, dest: vs.voicemessages.download(1, dest), "voicemessage-1.mp3"),
}


@pytest.mark.parametrize(
    ("dest", "target", "error", "as_path"),
    # A Path drops a trailing separator, so directories spelt with one are str only.
    [
        (*shape, as_path)
        for shape in SHAPES
        for as_path in (False, True)
        if not (as_path and shape[0].endswith("/"))
    ],
)
@pytest.mark.parametrize("what", list(DOWNLOADS))
async def test_a_missing_directory_is_named_before_sending(
    tmp_path: Path, dest: str, target: str, error: type[OSError], what: str, as_path: bool
) -> None:
    call, name = DOWNLOADS[what]
    fake = FakeVoipStudio(seed=2, monitors=2, voicemessages=2)
    (tmp_path / "a-file").write_bytes(b"not a directory")
    given = os.path.join(tmp_path, dest)
    async with client_of(fake) as vs:
        with pytest.raises(error) as caught:
            await call(vs, Path(given) if as_path else given)
    assert caught.value.filename == os.path.join(tmp_path, target.format(name=name))
    assert ".part" not in str(caught.value)
    assert fake.requests == []
    assert os.listdir(tmp_path) == ["a-file"]
