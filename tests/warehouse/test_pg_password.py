"""A PostgreSQL password kept out of the command line: ``PGPASSWORD`` or a password file
(``PGPASSFILE``, default ``~/.pgpass``) as libpq reads them; the pipeline is the same
whichever way the password comes, and a pipeline named the pre-0.2 way (its identity had
``:***`` when the URL held the password) keeps its state."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from warehouse_helpers import counts, list_walks

from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio
from voipstudio_async.warehouse import RESOURCES, Target, parse_destination, sync
from voipstudio_async.warehouse._sync import _adopt_legacy, pipeline_name

PASSWORD = "pg-s3cret-pw"


def _bare(url: str) -> str:
    """``url`` without its password."""
    return url.replace(f":{PASSWORD}@", "@", 1)


def _passfile(tmp_path: Path, *lines: str, mode: int = 0o600) -> Path:
    path = tmp_path / f"pgpass-{uuid.uuid4().hex[:6]}"
    path.write_text("".join(line + "\n" for line in lines))
    path.chmod(mode)
    return path


def _sources(url: str, tmp_path: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """The ways a user can give the password: ``{name: (url, environ)}``."""
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".pgpass").write_text(f"{host}:{port}:history:loader:{PASSWORD}\n")
    (home / ".pgpass").chmod(0o600)
    exact = _passfile(tmp_path, "# comment", f"{host}:{port}:history:loader:{PASSWORD}")
    wild = _passfile(tmp_path, "otherhost:*:*:*:nope", f"*:*:*:loader:{PASSWORD}")
    return {
        "url": (url, {}),
        "PGPASSWORD": (_bare(url), {"PGPASSWORD": PASSWORD}),
        "PGPASSFILE": (_bare(url), {"PGPASSFILE": str(exact)}),
        "PGPASSFILE-wildcards": (_bare(url), {"PGPASSFILE": str(wild)}),
        "~/.pgpass": (_bare(url), {"HOME": str(home)}),
    }


SOURCES = ["url", "PGPASSWORD", "PGPASSFILE", "PGPASSFILE-wildcards", "~/.pgpass"]
URL = f"postgresql://loader:{PASSWORD}@127.0.0.1:5433/history"


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_gives_one_identity_and_hides_the_password(
    tmp_path: Path, source: str
) -> None:
    url, environ = _sources(URL, tmp_path)[source]
    target = parse_destination(url, environ)
    reference = parse_destination(URL, {})
    assert target.identity == reference.identity == "postgresql://loader@127.0.0.1:5433/history"
    assert pipeline_name(target, "ds") == pipeline_name(reference, "ds")
    assert target.display == "postgresql://loader:***@127.0.0.1:5433/history"
    assert urlsplit(target.location).password == PASSWORD
    assert PASSWORD not in repr(target) and PASSWORD not in target.display
    assert target.scrub(f"connect {target.location} failed") == (
        "connect postgresql://loader:***@127.0.0.1:5433/history failed"
    )


@pytest.mark.parametrize(
    ("url", "environ_password", "file_password", "expected"),
    [
        (URL, "from-env", "from-file", PASSWORD),  # the URL first
        (_bare(URL), "from-env", "from-file", "from-env"),  # then PGPASSWORD
        (_bare(URL), "", "from-file", "from-file"),  # then the file
        (_bare(URL), "", None, None),  # none: no password (trust or peer auth)
    ],
)
def test_libpq_precedence(
    tmp_path: Path,
    url: str,
    environ_password: str,
    file_password: str | None,
    expected: str | None,
) -> None:
    environ = {"PGPASSWORD": environ_password, "HOME": str(tmp_path)}
    if file_password is not None:
        environ["PGPASSFILE"] = str(_passfile(tmp_path, f"*:*:*:*:{file_password}"))
    target = parse_destination(url, environ)
    assert urlsplit(target.location).password == expected
    assert target.identity == "postgresql://loader@127.0.0.1:5433/history"


@pytest.mark.parametrize(
    ("line", "password"),
    [
        (r"127.0.0.1:5433:history:loader:a\:b\\c", r"a:b\c"),  # escaped ':' and '\'
        ("127.0.0.1:5433:history:loader:with:colons", "with:colons"),  # the rest of the line
        ("127.0.0.1:5433:history:loader:p@ss/w rd%", "p@ss/w rd%"),
        ("127.0.0.1:*:history:loader:x", "x"),
        ("127.0.0.1:5432:history:loader:wrong-port", None),
        ("127.0.0.1:5433:other:loader:wrong-db", None),
        ("127.0.0.1:5433:history:someone:wrong-user", None),
        ("127.0.0.1:5433:history", None),  # too few fields: skipped
    ],
)
def test_password_file_lines(tmp_path: Path, line: str, password: str | None) -> None:
    environ = {"PGPASSFILE": str(_passfile(tmp_path, line))}
    target = parse_destination(_bare(URL), environ)
    location = urlsplit(target.location)
    assert (location.password and unquote(location.password)) == (password or None)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_password_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = _passfile(tmp_path, f"*:*:*:*:{PASSWORD}", mode=mode)
    with pytest.raises(ValueError, match=f"chmod 0600 {path}") as caught:
        parse_destination(_bare(URL), {"PGPASSFILE": str(path)})
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("password", ["p", "s", "2", "g2"])
def test_a_short_password_is_masked_as_a_value_only(password: str) -> None:
    target = parse_destination(f"postgresql://loader:{password}@db.example/history", {})
    message = f"No module named 'psycopg2' (connecting as loader:{password}@db.example)"
    assert target.scrub(message) == (
        "No module named 'psycopg2' (connecting as loader:***@db.example)"
    )


# -- against the real server ------------------------------------------------------------------


def _dataset(tmp_path: Path) -> str:
    return f"p{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize("second", ["PGPASSWORD", "~/.pgpass", "PGPASSFILE"])
def test_a_sync_goes_on_whichever_way_the_password_comes(
    postgres_url: str,
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
    second: str,
) -> None:
    dataset = _dataset(tmp_path)
    sources = _sources(postgres_url, tmp_path)

    def once(source: str) -> dict[str, tuple[int, int]]:
        url, environ = sources[source]
        target = parse_destination(url, environ)
        report = sync(target, client_factory=factory, dataset=dataset, pipelines_dir=pipelines_dir)
        return counts(report)

    assert once("url") == {name: (fake.count(name), 0) for name in RESOURCES}
    fake.insert("cdrs", 3)
    fake.reset_log()
    assert once(second)["cdrs"] == (3, 0)
    assert len(os.listdir(pipelines_dir)) == 1


def _legacy_first_run(
    target: Target,
    dataset: str,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """A first sync as version 0.1 ran it: the pipeline named after the display."""
    assert target.legacy_identity is not None
    with monkeypatch.context() as patch:
        patch.setattr(Target, "identity", property(lambda self: self.display))
        old = dataclasses.replace(target, legacy_identity=None)
        sync(old, client_factory=factory, dataset=dataset, pipelines_dir=pipelines_dir)
        return pipeline_name(old, dataset)


@pytest.mark.parametrize("local_state", ["kept", "lost"])
@pytest.mark.parametrize("source", ["url", "PGPASSWORD", "~/.pgpass"])
def test_a_pipeline_of_the_old_name_keeps_its_state(
    postgres_url: str,
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
    monkeypatch: pytest.MonkeyPatch,
    local_state: str,
    source: str,
) -> None:
    dataset = _dataset(tmp_path)
    old_name = _legacy_first_run(
        parse_destination(postgres_url, {}), dataset, factory, pipelines_dir, monkeypatch
    )
    if local_state == "lost":  # another machine: only the destination has the state
        shutil.rmtree(Path(pipelines_dir) / old_name)
    last = fake.ids("cdrs")[-1]
    fake.insert("cdrs", 4)
    fake.reset_log()
    url, environ = _sources(postgres_url, tmp_path)[source]
    target = parse_destination(url, environ)

    report = sync(target, client_factory=factory, dataset=dataset, pipelines_dir=pipelines_dir)

    assert counts(report)["cdrs"] == (4, 0)
    assert counts(report)["chats"] == (0, 0)
    first_filter = list_walks(fake, "/cdrs")[0]
    assert first_filter[0]["operator"] == "gt" and 0 < first_filter[0]["value"] <= last
    assert os.listdir(pipelines_dir) == [pipeline_name(target, dataset)]
    fake.insert("cdrs", 1)
    again = sync(target, client_factory=factory, dataset=dataset, pipelines_dir=pipelines_dir)
    assert counts(again)["cdrs"] == (1, 0)


def test_a_new_destination_adopts_nothing(
    postgres_url: str,
    tmp_path: Path,
    fake: FakeVoipStudio,
    factory: Callable[[], VoipStudio],
    pipelines_dir: str,
) -> None:
    dataset = _dataset(tmp_path)
    target = parse_destination(postgres_url, {})
    report = sync(target, client_factory=factory, dataset=dataset, pipelines_dir=pipelines_dir)
    assert counts(report)["cdrs"] == (fake.count("cdrs"), 0)
    assert os.listdir(pipelines_dir) == [pipeline_name(target, dataset)]


def test_a_url_without_a_user_has_nothing_to_adopt(tmp_path: Path) -> None:
    """No user, so no ``user:***@`` in the old name either: no adoption is tried (it would
    look for the pipeline in an unreachable database and rename a directory onto itself)."""
    target = parse_destination("postgresql://127.0.0.1:1/history", {"PGPASSWORD": PASSWORD})
    assert urlsplit(target.location).password == PASSWORD
    root = tmp_path / "pipelines"
    root.mkdir()
    _adopt_legacy(target, "ds", None, str(root))
    assert list(root.iterdir()) == []
