"""Every Python example in README.md and the site's guides runs, against the embedded fake.

Each ```python block of the pages in ``_docs.PAGES`` runs on its own, with top-level
``await`` allowed, in a temporary working directory (with the repository importable, for
``examples/``). ``voipstudio_async.VoipStudio`` is swapped for a subclass that talks to
an in-process ``FakeVoipStudio``: the credentials written in the example are replaced by
the fake's of the same kind, so the examples stay what a user would type (an example
that passes its own ``transport=`` keeps it). A block that
uses ``vs`` without creating it gets an open client. A test function an example defines
(``async def test_...(fake_voipstudio)``) is then called with a fresh fake, and a
program's ``async def main()`` (its ``__main__`` guard does not fire) is awaited. A block
preceded by ``<!-- docs-test: skip -->`` is not run (it needs a real account); one
preceded by ``<!-- docs-test: file NAME -->`` is a file of a fresh project, run by
tests/test_docs_testing_guide.py.

Every line of every fenced block (included files too) fits in ``CODE_WIDTH`` characters,
but in a block of what a command prints, quoted as it is and preceded by
``<!-- docs-test: output -->``.
"""

from __future__ import annotations

import ast
import inspect
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _docs import PAGES, ROOT, all_blocks, blocks

import voipstudio_async
from voipstudio_async import VoipStudio
from voipstudio_async.testing import FakeVoipStudio


def examples() -> Iterator[Any]:
    for block in all_blocks("python"):
        if block.marker is None:
            yield pytest.param(block.source, id=block.id)
        elif block.marker == "skip":
            yield pytest.param(
                block.source, id=block.id, marks=pytest.mark.skip("needs an account")
            )


@pytest.fixture
def fake() -> FakeVoipStudio:
    return FakeVoipStudio(seed=1, cdrs=600, monitors=12, voicemessages=12, chats=10, msdrs=20)


@pytest.fixture
def fake_backed(fake: FakeVoipStudio, monkeypatch: pytest.MonkeyPatch) -> type[VoipStudio]:
    creds = fake.credentials

    class FakeBacked(VoipStudio):
        def __init__(
            self,
            user_id: int | str | None = None,
            api_key: str | None = None,
            *,
            token: str | None = None,
            email: str | None = None,
            password: str | None = None,
            **options: Any,
        ) -> None:
            if options.get("transport") is not None or options.get("http_client") is not None:
                # The example targets a server of its own (e.g. a fake it was given).
                super().__init__(
                    user_id, api_key, token=token, email=email, password=password, **options
                )
                return
            if email is not None or password is not None:
                email, password = creds.email, creds.password
            elif token is not None:
                token = creds.api_key
            else:
                user_id, api_key = creds.user_id, creds.api_key
            options["base_url"] = fake.base_url
            options.pop("http_backend", None)
            options["transport"] = fake.transport()
            super().__init__(
                user_id, api_key, token=token, email=email, password=password, **options
            )

    monkeypatch.setattr(voipstudio_async, "VoipStudio", FakeBacked)
    monkeypatch.setenv("VOIPSTUDIO_USER_ID", str(creds.user_id))
    monkeypatch.setenv("VOIPSTUDIO_API_KEY", creds.api_key)
    return FakeBacked


@pytest.fixture
async def vs(fake_backed: type[VoipStudio]) -> AsyncIterator[VoipStudio]:
    async with fake_backed(user_id=1, api_key="from-readme") as client:
        yield client


# At 1280 px the site's code column holds 80 characters (656 px at 8.2 px a character,
# measured in headless Chromium): a longer line wraps mid-expression.
CODE_WIDTH = 80


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_pages_code_fits_the_site(page: Path) -> None:
    too_long = [
        f"{block.id}: {len(line)} characters: {line}"
        for block in blocks(page)
        if block.marker != "output"
        for line in block.source.splitlines()
        if len(line) > CODE_WIDTH
    ]
    assert not too_long, "\n".join(too_long)


def test_the_blocks_checked_include_every_kind(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Text with ```inline``` backticks.\n\n"
        "```\nplain\n```\n\n"
        "```sh\nvoipstudio sync\n```\n\n"
        "!!! note\n\n    ```python\n    x = 1\n    ```\n\n"
        '``` { .python }\n--8<-- "examples/workers.py"\n```\n\n'
        "<!-- docs-test: output -->\n```text\nprinted\n```\n\n"
        "<!-- docs-test: skip -->\n\n````python\n```\n````\n",
        encoding="utf-8",
    )
    workers = (ROOT / "examples" / "workers.py").read_text(encoding="utf-8")
    assert [(b.line, b.language, b.marker, b.source, b.included) for b in blocks(page)] == [
        (4, "", None, "plain\n", False),
        (8, "sh", None, "voipstudio sync\n", False),
        (14, "python", None, "x = 1\n", False),
        (18, "python", None, workers + "\n", True),
        (23, "text", "output", "printed\n", False),
        (29, "python", "skip", "```\n", False),
    ]


def test_the_pages_have_examples() -> None:
    assert len(list(examples())) >= 20


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_pages_first_example_is_a_whole_program(page: Path) -> None:
    # Later examples are the body of that program's main(), so a copied page runs.
    first = next((b for b in blocks(page) if b.language == "python" and not b.marker), None)
    if first is None:
        pytest.skip("no Python example")
    # A synchronous API (dlt's pipelines) makes a synchronous program.
    asynchronous = "async def main() -> None:" in first.source and "run(main())" in first.source
    synchronous = "\ndef main() -> None:" in first.source and "\n    main()" in first.source
    assert first.included or (
        (asynchronous or synchronous) and 'if __name__ == "__main__":' in first.source
    ), f"{first.id}: the first example should be a whole program (async def main, run(main()))"


@pytest.mark.parametrize("source", list(examples()))
async def test_example_runs(
    source: str,
    vs: VoipStudio,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    # The "Load into a database" example runs dlt: its state in tmp_path, no usage reports.
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.syspath_prepend(str(ROOT))
    caplog.set_level(logging.INFO, logger="voipstudio_async")
    code = compile(source, "example", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, Any] = {"__name__": "readme", "vs": vs, "httpx": httpx}
    result = eval(code, namespace)
    if result is not None:
        await result
    for name, value in namespace.items():
        if name.startswith("test_") and inspect.iscoroutinefunction(value):
            await value(FakeVoipStudio(seed=2, cdrs=300, monitors=5, voicemessages=5))
    main = namespace.get("main")
    if inspect.iscoroutinefunction(main):
        await main()  # a program example guarded by `if __name__ == "__main__":`
    elif callable(main):
        main()
