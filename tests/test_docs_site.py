"""The documentation site builds in mkdocs' strict mode, and its API reference covers
every public name (what mkdocstrings rendered, read from the site's objects.inv)."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

import voipstudio_async
import voipstudio_async.resources
import voipstudio_async.testing
import voipstudio_async.types

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = (
    voipstudio_async,
    voipstudio_async.types,
    voipstudio_async.testing,
    voipstudio_async.resources,
)
FIXTURES = ("fake_voipstudio", "fake_voipstudio_client", "fake_voipstudio_url")


def inventory(site: Path) -> set[str]:
    """The object names of a Sphinx v2 inventory (header lines, then zlib)."""
    data = (site / "objects.inv").read_bytes()
    body = zlib.decompress(data.split(b"\n", 4)[4]).decode()
    return {line.split(" ", 1)[0] for line in body.splitlines()}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip() == "", done.stderr
    return out


def test_every_public_name_is_in_the_api_reference(site: Path) -> None:
    names = inventory(site)
    missing = [
        f"{module.__name__}.{name}"
        for module in PUBLIC
        for name in module.__all__
        if f"{module.__name__}.{name}" not in names
    ]
    missing += [
        f"pytest_plugin.{fixture}"
        for fixture in FIXTURES
        if f"voipstudio_async.testing.pytest_plugin.{fixture}" not in names
    ]
    assert missing == []


def test_every_resource_method_is_in_the_api_reference(site: Path) -> None:
    names = inventory(site)
    missing = [
        f"{cls.__module__}.{cls.__name__}.{attr}"
        for cls in map(vars(voipstudio_async.resources).get, voipstudio_async.resources.__all__)
        for attr in dir(cls)
        if not attr.startswith("_") and callable(getattr(cls, attr))
        if f"voipstudio_async.resources.{cls.__name__}.{attr}" not in names
    ]
    assert missing == []


def test_the_home_page_shows_the_operations_table(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "<code>vs.cdrs.iterate_consistent()</code>" in home
    assert "GET /users/{id}/cdrs.csv" in home


def test_the_web_apps_guide_shows_the_tested_example(site: Path) -> None:
    page = (site / "guides" / "web-apps.html").read_text(encoding="utf-8")
    assert "--8&lt;--" not in page
    assert page.count("create_app") >= 2 and "lifespan_context" in page
