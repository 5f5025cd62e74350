"""The documentation site builds in mkdocs' strict mode, and its API reference covers
every public name (what mkdocstrings rendered, read from the site's objects.inv)."""

from __future__ import annotations

import ast
import html
import inspect
import json
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import voipstudio_async
import voipstudio_async._constants
import voipstudio_async.cli
import voipstudio_async.fleet
import voipstudio_async.resources
import voipstudio_async.storage
import voipstudio_async.testing
import voipstudio_async.testing.pytest_plugin
import voipstudio_async.types
import voipstudio_async.warehouse
from voipstudio_async._options import ClientOptions

ROOT = Path(__file__).resolve().parents[1]
# Every public module: the package, its public subpackages and the command's entry.
PUBLIC = (
    voipstudio_async,
    voipstudio_async.types,
    voipstudio_async.testing,
    voipstudio_async.resources,
    voipstudio_async.warehouse,
    voipstudio_async.fleet,
    voipstudio_async.storage,
    voipstudio_async.cli,
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


# -- issue 25: a reference a reader can use, pages one can link to -------------------------

GUIDES = sorted((ROOT / "docs" / "guides").glob("*.md"))
REFERENCE_PAGES = ("client", "resources", "pagination", "bulk", "downloads", "errors", "auth")
_SIGNATURE = re.compile(r'<div class="doc-signature highlight"><pre>(.*?)</pre>', re.S)
_TAG = re.compile(r"<[^>]+>")


def _text(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment))


def _signatures(site: Path) -> Iterator[tuple[str, str]]:
    for page in sorted((site / "reference").glob("*.html")):
        for signature in _SIGNATURE.findall(page.read_text(encoding="utf-8")):
            yield page.name, _text(signature)


def _private_names() -> set[str]:
    """Names a reader cannot import: the private constants and the internal aliases."""
    public = set().union(*(set(m.__all__) for m in PUBLIC))
    constants = {name for name in vars(voipstudio_async._constants) if name.isupper()}
    return (constants - public) | {"DeadlineArg", "Requester", "ItemCallback", "Direction"}


def test_the_warehouse_and_generated_packages_are_in_the_api_reference(site: Path) -> None:
    names = inventory(site)
    import voipstudio_history_client
    import voipstudio_history_client.models

    wanted = [f"voipstudio_async.warehouse.{n}" for n in voipstudio_async.warehouse.__all__]
    wanted += [f"voipstudio_history_client.{n}" for n in voipstudio_history_client.__all__]
    wanted += [
        f"voipstudio_history_client.models.{n}" for n in voipstudio_history_client.models.__all__
    ]
    wanted += ["voipstudio_history_client.api.cdrs.list_cdrs.asyncio_detailed"]
    assert [name for name in wanted if name not in names] == []


def test_no_private_name_in_a_rendered_signature(site: Path) -> None:
    private = _private_names()
    found = sorted(
        {
            (page, token)
            for page, text in _signatures(site)
            for token in re.findall(r"(?<!\w)_?[A-Za-z]\w*", text)
            if (token.startswith("_") and not token.startswith("__")) or token in private
        }
    )
    assert found == []


@pytest.mark.parametrize(
    ("resource", "types"),
    [
        ("Cdrs", ["Page[Cdr]", "AsyncIterator[Cdr]", "BulkResult[None]", "-> Cdr"]),
        ("Monitors", ["Page[Monitor]", "AsyncIterator[Monitor]", "BulkResult[None]"]),
        ("Voicemessages", ["Page[Voicemessage]", "BulkResult[DownloadResult]"]),
        ("Chats", ["Page[Chat]", "AsyncIterator[Chat]"]),
        ("Msdrs", ["Page[Msdr]", "AsyncIterator[Msdr]"]),
    ],
)
def test_each_resource_shows_its_own_types(site: Path, resource: str, types: list[str]) -> None:
    page = (site / "reference" / "resources.html").read_text(encoding="utf-8")
    start = page.index(f'id="voipstudio_async.resources.{resource}"')
    end = page.find('<div class="doc doc-object doc-class">', start + 1)
    section = _text(page[start : end if end > 0 else None])
    assert [t for t in types if t not in section] == []
    assert "[T]" not in section and "[H]" not in section and "[M]" not in section


def _client_namespaces() -> dict[str, str]:
    """Each resource class's name -> the client attribute holding it, from the client's code."""
    source = inspect.getsource(voipstudio_async.VoipStudio.__init__)
    found = re.findall(r"self\.(\w+) = (\w+)\(self\._requester\)", source)
    return {cls: attribute for attribute, cls in found}


@pytest.mark.parametrize("resource", voipstudio_async.resources.__all__)
def test_a_resource_shows_how_it_is_reached_not_a_constructor(site: Path, resource: str) -> None:
    attribute = _client_namespaces()[resource]
    page = (site / "reference" / "resources.html").read_text(encoding="utf-8")
    start = page.index(f'id="voipstudio_async.resources.{resource}"')
    head = page[start : page.index("doc doc-contents", start)]
    intro = _text(page[start : page.index("doc doc-children", start)])
    # No ``Cdrs()`` signature (readers never construct one), and the way to it instead.
    assert "doc-signature" not in head and f"{resource}(" not in _text(head)
    assert f"Reached as vs.{attribute}" in intro
    client = (site / "reference" / "client.html").read_text(encoding="utf-8")
    at = client.index(f'id="voipstudio_async.VoipStudio.{attribute}"')
    assert f"{attribute}: {resource}" in _text(client[at : client.index("</div>", at)])


def test_defaults_show_values(site: Path) -> None:
    signatures = "\n".join(text for _, text in _signatures(site))
    assert "limit: int = 100" in signatures
    assert "page_size: int = 1000" in signatures
    assert "ratio: float = 0.2" in signatures
    # Public constants too (``DEFAULT_LOOKBACK``), dataclass fields included: a default left
    # as a name was dropped from SyncJob's signature, which then read as required.
    assert "max_concurrency: int = 32" in signatures
    assert 'dataset: str = "voipstudio"' in signatures
    job = next(text for _, text in _signatures(site) if text.startswith("SyncJob("))
    assert "lookback: timedelta = timedelta(days=7)" in job
    assert '"cdrs",' in job


def test_the_client_signature_shows_every_option_with_its_default(site: Path) -> None:
    # The options are written from ClientOptions' fields (tools/derive_options.py); each
    # shows a value or a name a reader can import.
    public = set().union(*(set(m.__all__) for m in PUBLIC))
    signature = next(text for _, text in _signatures(site) if text.startswith("VoipStudio("))
    shown = dict(re.findall(r"^ +(\w+): .+ = (.+),$", signature, re.M))
    options = [field.name for field in attrs.fields(ClientOptions) if field.init]
    assert [name for name in options if name not in shown] == []
    for name in options:
        default = shown[name]
        call = re.fullmatch(r"(\w+)\(\)", default)
        if call or default in public:
            assert (call[1] if call else default) in public, (name, default)
        else:
            ast.literal_eval(default)  # a value, not a name
    assert shown["rate_limit"] == "RateLimit()" and shown["retry_budget"] == "RetryBudget()"


def test_error_subclasses_list_only_what_they_add(site: Path) -> None:
    page = (site / "reference" / "errors.html").read_text(encoding="utf-8")
    # The attributes of APIStatusError are documented once, not under every subclass.
    assert page.count('id="voipstudio_async.APIStatusError.status_code"') == 1
    assert "voipstudio_async.NotFoundError.status_code" not in page


def _inherits_its_constructor(name: str) -> bool:
    cls = getattr(voipstudio_async, name)
    return (
        isinstance(cls, type)
        and issubclass(cls, voipstudio_async.VoipStudioError)
        and "__init__" not in vars(cls)
        and any(
            "__init__" in vars(base)
            for base in cls.__mro__[1:]
            if base.__module__.startswith("voipstudio_async.")
        )
    )


@pytest.mark.parametrize(
    "error", [name for name in voipstudio_async.__all__ if _inherits_its_constructor(name)]
)
def test_an_error_subclass_does_not_repeat_its_bases_signature(site: Path, error: str) -> None:
    page = (site / "reference" / "errors.html").read_text(encoding="utf-8")
    start = page.index(f'id="voipstudio_async.{error}"')
    head = page[start : page.index("doc doc-contents", start)]
    assert "doc-signature" not in head


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_guide_has_headings_to_link_to(site: Path, guide: Path) -> None:
    assert re.search(r"^## \S", guide.read_text(encoding="utf-8"), re.M), guide.name
    page = (site / "guides" / guide.with_suffix(".html").name).read_text(encoding="utf-8")
    assert re.search(r'<h2 id="[\w-]+"', page)


@pytest.mark.parametrize(
    ("page", "anchor"),
    [
        ("guides/cli.html", "archiving-to-s3"),
        ("guides/cli.html", "purge"),
        ("guides/cli.html", "exit-codes"),
        ("guides/database.html", "interrupted-runs"),
        ("guides/web-apps.html", "the-fastapi-example"),
        ("guides/tracing.html", "spans-and-attributes"),
        ("guides/recipes.html", "nightly-sync-into-postgresql"),
        ("guides/recipes.html", "a-month-of-recordings-archived-to-s3"),
        ("guides/recipes.html", "fastapi-app-sized-for-load"),
        ("guides/recipes.html", "n-worker-processes-sharing-one-account"),
        ("guides/recipes.html", "testing-with-the-fakes-faults"),
    ],
)
def test_sections_can_be_linked(site: Path, page: str, anchor: str) -> None:
    assert f'id="{anchor}"' in (site / page).read_text(encoding="utf-8")


def test_no_stray_escaped_pipe(site: Path) -> None:
    stray = [
        str(page.relative_to(site))
        for page in site.rglob("*.html")
        if "\\|" in _text(page.read_text(encoding="utf-8"))
    ]
    assert stray == []


def test_the_home_page_leads_to_every_job(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    for target in (
        "guides/recipes.html",
        "guides/database.html",
        "guides/tracing.html",
        "guides/cli.html",
        "troubleshooting.html",
        "changelog.html",
    ):
        assert f'href="{target}"' in home, target
    recipes = (site / "guides" / "recipes.html").read_text(encoding="utf-8")
    for anchor in ("#nightly-sync-into-postgresql", "#fastapi-app-sized-for-load"):
        assert f'href="{anchor}"' in recipes


def test_the_command_reference_is_the_parsers_help(site: Path) -> None:
    import argparse

    from voipstudio_async.cli._args import build_parser

    page = _text((site / "reference" / "cli.html").read_text(encoding="utf-8"))
    parser = build_parser()
    commands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    names = list(commands[0].choices)
    assert names and all(f"voipstudio {name}" in page for name in names)
    for option in ("--lookback", "--purge", "--no-formula-guard", "--s3-endpoint-url"):
        assert option in page


def test_the_site_works_from_disk(site: Path) -> None:
    missing = (site / "404.html").read_text(encoding="utf-8")
    assert re.findall(r"""(?:href|src)=["']/(?!/)""", missing) == []
    assert '"base": "/"' not in missing
    home = (site / "index.html").read_text(encoding="utf-8")
    assert f"voipstudio-async {voipstudio_async.__version__}" in home
    assert 'data-md-component="palette"' in home or "md-option" in home  # the dark mode toggle
    assert "md-footer__link--next" in home


def test_the_changelog_is_a_page(site: Path) -> None:
    page = (site / "changelog.html").read_text(encoding="utf-8")
    assert "Unreleased" in page and "--8&lt;--" not in page


def test_the_diagrams_are_drawn_from_the_code(site: Path) -> None:
    errors = (site / "diagrams" / "errors.svg").read_text(encoding="utf-8")
    classes = [
        name
        for name in voipstudio_async.__all__
        if isinstance(obj := getattr(voipstudio_async, name), type)
        and issubclass(obj, voipstudio_async.VoipStudioError)
    ]
    assert [name for name in classes if f">{name}" not in errors] == []
    for name in ("request.svg", "sync.svg"):
        assert (site / "diagrams" / name).read_text(encoding="utf-8").startswith("<svg")
    assert "https://" not in errors.replace("http://www.w3.org/2000/svg", "")


def test_figures_come_from_the_bench_results(site: Path) -> None:
    results = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    first = f"{results['results']['warehouse']['first']['rows_per_s']:,.0f}"
    database = _text((site / "guides" / "database.html").read_text(encoding="utf-8"))
    performance = _text((site / "guides" / "performance.html").read_text(encoding="utf-8"))
    assert f"{first} rows/s" in database
    assert first in performance and "{{ bench:" not in database + performance


TIMES = "\N{MULTIPLICATION SIGN}"


def test_the_performance_prose_quotes_the_bench_results(site: Path) -> None:
    source = (ROOT / "docs" / "guides" / "performance.md").read_text(encoding="utf-8")
    assert "## Rate limits" in source  # checked with the rest of the page
    prose = re.sub(r"```.*?```", "", source, flags=re.S)
    typed = re.findall(rf"\d[\d.,]*\s?(?:{TIMES}|%)", re.sub(r"\{\{ bench:.*?\}\}", "", prose))
    assert typed == []  # a ratio or a share written by hand could disagree with the table
    results = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    values = {entry["target"]: entry["value"] for entry in results["targets"]}
    quoted = re.findall(r'\{\{ bench: target "([^"]+)" \.2f \}\}', prose)
    page = _text((site / "guides" / "performance.html").read_text(encoding="utf-8"))
    assert len(set(quoted)) >= 10
    assert [name for name in quoted if f"{values[name]:.2f}{TIMES}" not in page] == []


def _table_rows(page: str, *header: str) -> dict[str, list[str]]:
    """The rendered table whose first row starts with ``header``: its rows' cells' text
    by the first cell's."""
    for table in re.findall(r"<table>.*?</table>", page, flags=re.S):
        rows = [
            [_text(cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
        ]
        if rows and tuple(rows[0][: len(header)]) == header:
            return {row[0]: row[1:] for row in rows[1:]}
    raise AssertionError(f"no table headed {header!r}")


def _ratelimit_run() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "bench" / "results" / "ratelimit.json").read_text())
    return data


def test_the_rate_limit_table_is_the_benchs_last_run(site: Path) -> None:
    from bench import ratelimit

    run = _ratelimit_run()
    # The included file is what the bench writes from its results, not edited by hand.
    written = (ROOT / "bench" / "results" / "ratelimit.md").read_text(encoding="utf-8")
    assert written == ratelimit.table(run)
    page = (site / "guides" / "performance.html").read_text(encoding="utf-8")
    shown = _table_rows(page, "cell", "goodput / reachable")
    labels = {target.name: target.label for target in ratelimit.TARGETS}
    for cell in ratelimit.cells():
        row = run["by_cell"][cell.name]
        assert set(row["meets"]) == {t.name for t in ratelimit.TARGETS if t.applies(cell)}
        missed = [labels[name] for name, met in row["meets"].items() if not met]
        back = row["recovered_after"]
        assert shown[ratelimit.words(cell)] == [
            f"{row['vs_reachable']:.2f}",
            f"{row['share_429']:.1%}",
            f"{row['share_429_after_1s']:.1%}",
            str(row["failed"]) + (f" ({', '.join(row['errors'])})" if row.get("errors") else ""),
            f"{row['spread']:.0%}" if cell.processes > 1 else "",
            "" if back is None else f"{back:.2f}",
            "missed: " + ", ".join(missed) if missed else "met",
        ], cell.name
        if cell.key:  # the bench draws a picture of each key cell
            assert f'src="img/ratelimit-{cell.name}.png"' in page
    assert f"Run {run['when']}" in _text(page)


# README's Performance table is plain markdown (no build hook reaches it): each of its
# figures of the last `make bench` run, with the format the table writes it in.
README_FIGURES = [
    ("results.get/sdk/c=64.rps", ",.0f"),
    ("results.get/aiohttp/c=64.rps", ",.0f"),
    ("results.get/httpx/c=64.rps", ",.0f"),
    ("results.get/sdk/c=64.cpu_ms_per_request", ".3f"),
    ("results.get/aiohttp/c=64.cpu_ms_per_request", ".3f"),
    ("results.walk/sdk/page=1000.items_per_s", ",.0f"),
    ("results.walk/httpx/page=1000.items_per_s", ",.0f"),
    ("results.walk/sdk/page=5000.items_per_s", ",.0f"),
    ("results.walk/httpx/page=5000.items_per_s", ",.0f"),
    ("results.walk/sdk/page=1000.stall_max_ms", ".1f"),
    ("results.walk/sdk/page=5000.stall_max_ms", ".1f"),
    ("results.download/sdk.mb_per_s", ",.0f"),
    ("results.download/httpx.mb_per_s", ",.0f"),
    ("results.fanout/sdk.files_per_s", ",.0f"),
    ("results.fanout/httpx.files_per_s", ",.0f"),
    ('target "GET c=64: SDK req/s / raw aiohttp req/s"', ".2f"),
    ('target "GET c=64: SDK CPU per request / raw aiohttp\'s"', ".2f"),
    ('target "GET c=64: SDK / raw httpx default"', ".1f"),
    ('target "walk (1000/page): SDK / naive raw-httpx loop"', ".2f"),
    ('target "walk (5000/page): SDK / naive raw-httpx loop"', ".2f"),
    ('target "download: SDK / raw httpx stream()"', ".2f"),
    ('target "fan-out: SDK download_many / raw gather"', ".2f"),
]


def _bench_hook() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_figures", ROOT / "docs" / "hooks" / "bench_figures.py"
    )
    assert spec is not None and spec.loader is not None
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    return hook


def test_the_readme_performance_table_is_the_last_bench_run() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[
        readme.index("## Performance") : readme.index("\n## ", readme.index("## Performance") + 1)
    ]
    cells = set(re.findall(r"[\d.,]+", section))
    hook = _bench_hook()
    figures = {
        f"{path} {spec}": hook.on_page_markdown(f"{{{{ bench: {path} {spec} }}}}")
        for path, spec in README_FIGURES
    }
    assert {name: shown for name, shown in figures.items() if shown not in cells} == {}
    when = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())["when"]
    assert when[:10] in section  # the run's date, as the table says it


def _readme_ratelimit_rows(run: dict[str, Any]) -> list[str]:
    """README's two rate-limit rows as ``run`` (bench/results/ratelimit.json) makes them."""
    cell, goals = run["by_cell"], {name: t["goal"] for name, t in run["targets"].items()}

    def pair(a: str, b: str, key: str, spec: str) -> str:
        return f"{format(cell[a][key], spec)} / {format(cell[b][key], spec)}"

    def reachable(a: str, b: str) -> str:
        rates = {f"{cell[n]['goodput'] / cell[n]['vs_reachable']:,.0f}" for n in (a, b)}
        return " / ".join(sorted(rates))

    def missed(a: str, b: str) -> str:
        return "" if all(all(cell[n]["meets"].values()) for n in (a, b)) else " (missed)"

    one = ("200-aiohttp-gathered", "200-aiohttp-loops")
    redis = ("200-x4-redis-gathered", "200-x4-redis-loops")
    return [
        "| fake limited to 200 requests/s with `Retry-After` (`python -m bench.ratelimit`, "
        f"{run['when'][:10]}, aiohttp backend): goodput, gathered calls / worker loops "
        f"(answered 429: {pair(*one, 'share_429', '.1%')}) | {pair(*one, 'goodput', ',.0f')} "
        f"| reachable, {reachable(*one)} | {pair(*one, 'vs_reachable', '.2f')} "
        f"| {goals['goodput']}, {goals['answered-429']} answered 429{missed(*one)} |",
        "| the same, 4 processes sharing one Redis, gathered / loops (answered 429: "
        f"{pair(*redis, 'share_429', '.1%')}; per-process spread {pair(*redis, 'spread', '.0%')}"
        f"; failed calls {pair(*redis, 'failed', 'd')}) | {pair(*redis, 'goodput', ',.0f')} "
        f"| reachable, {reachable(*redis)} | {pair(*redis, 'vs_reachable', '.2f')} "
        f"| {goals['goodput']}, {goals['answered-429']}, spread {goals['spread']}"
        f"{missed(*redis)} |",
    ]


def test_a_rate_limit_cell_figure_is_quoted_by_its_name() -> None:
    from bench import ratelimit

    hook, run = _bench_hook(), _ratelimit_run()
    for cell in ratelimit.cells():
        quoted = hook.on_page_markdown(
            f"{{{{ bench: ratelimit.json:by_cell.{cell.name}.vs_reachable .2f }}}}"
        )
        assert quoted == f"{run['by_cell'][cell.name]['vs_reachable']:.2f}"


def test_the_readme_rate_limit_rows_are_the_last_ratelimit_run() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    run = _ratelimit_run()
    wrong = [row for row in _readme_ratelimit_rows(run) if row not in readme]
    assert wrong == [], (
        "README.md's Performance table: write these rate-limit rows (from "
        f"bench/results/ratelimit.json, run {run['when']}) in place of the old ones:\n"
        + "\n".join(wrong)
    )


@pytest.mark.parametrize(
    ("placeholder", "error"),
    [
        ("{{ bench: results.nothing.here }}", KeyError),
        ('{{ bench: target "no such target" .2f }}', KeyError),
        ("{{ bench: s3.json:results.nothing }}", KeyError),
        ("{{ bench: ratelimit.json:by_cell.no-such-cell.share_429 .1% }}", KeyError),
        ("{{ bench: no-such-run.json:results }}", FileNotFoundError),
    ],
)
def test_an_unknown_bench_figure_fails_the_build(placeholder: str, error: type[Exception]) -> None:
    hook = _bench_hook()
    with pytest.raises(error):
        hook.on_page_markdown(f"ran at {placeholder} rows/s")
    s3 = json.loads((ROOT / "bench" / "results" / "s3.json").read_text())
    quoted = hook.on_page_markdown("{{ bench: s3.json:files d }} files")
    assert quoted == f"{s3['files']:d} files"


def test_the_fault_table_is_rendered_from_the_fake(site: Path) -> None:
    page = _text((site / "guides" / "recipes.html").read_text(encoding="utf-8"))
    assert "<!-- fake-faults -->" not in page
    for method in ("fail", "add_latency", "drop_connection", "cut_body", "drip"):
        assert f"fake.{method}()" in page
    assert "probability=None" in page and "/monitors/*.mp3" in page


def test_the_s3_recipe_lists_every_call_the_command_makes() -> None:
    code = "".join(
        path.read_text(encoding="utf-8")
        for path in (ROOT / "voipstudio_async" / "storage").glob("_*.py")
    )
    made = set(re.findall(r'"((?:head|put|get|list|create|upload|complete|abort)_\w+)"', code))
    recipe = (ROOT / "docs" / "guides" / "recipes.md").read_text(encoding="utf-8")
    table = recipe[recipe.index("| S3 call |") : recipe.index("It never deletes")]
    listed = {
        re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
        for name in re.findall(r"`([A-Z][A-Za-z]+)`", table)
    }
    assert made and listed == made


# -- every public parameter is described (griffe reads the docstrings as the site does) -----

# The models of ``voipstudio_async.types`` are the generated package's (described by the
# spec), so the modules checked are the others, and the pytest plugin's fixtures.
DOCSTRING_MODULES = tuple(
    module.__name__
    for module in (*PUBLIC, voipstudio_async.testing.pytest_plugin)
    if module is not voipstudio_async.types
)


def _public_functions(package: Any, module: str) -> Iterator[Any]:
    """Every public function, method and constructor reachable from ``module.__all__``."""
    import griffe

    seen: set[str] = set()
    for name in sys.modules[module].__all__:
        path = f"{module}.{name}".removeprefix("voipstudio_async.")
        obj = package[path]
        obj = obj.final_target if obj.is_alias else obj
        if not obj.path.startswith("voipstudio_async."):
            continue  # the generated models: described by the spec
        candidates = [obj]
        if isinstance(obj, griffe.Class):
            for member_name, member in obj.all_members.items():
                if member_name.startswith("_") and member_name != "__init__":
                    continue
                candidates.append(member.final_target if member.is_alias else member)
        for candidate in candidates:
            if isinstance(candidate, griffe.Function) and candidate.path not in seen:
                seen.add(candidate.path)
                yield candidate


def _described(function: Any) -> set[str]:
    """The parameter names a function's docstring (or its class's, for __init__) describes."""
    import griffe

    documented: set[str] = set()
    docstrings = [function.docstring]
    owner = function.parent
    if function.name == "__init__" and isinstance(owner, griffe.Class):
        docstrings.append(owner.docstring)
        for name, member in owner.all_members.items():
            target = member.final_target if member.is_alias else member
            if isinstance(target, griffe.Attribute) and target.docstring:
                documented.add(name)
    for docstring in filter(None, docstrings):
        for section in docstring.parse("google"):
            if section.kind.value in ("parameters", "attributes", "other parameters"):
                documented |= {entry.name.lstrip("*") for entry in section.value}
    return documented


def _sections(function: Any) -> set[str]:
    docstring = function.docstring
    return {s.kind.value for s in docstring.parse("google")} if docstring else set()


def _load_api() -> Any:
    """``voipstudio_async`` as the site's griffe reads it: with the generated package it
    re-exports and the site's extension (docs/hooks/griffe_concrete.py), so what is
    checked is what is rendered (the resources' concrete methods, no constructors)."""
    import griffe

    extensions = griffe.load_extensions(str(ROOT / "docs" / "hooks" / "griffe_concrete.py"))
    loader = griffe.GriffeLoader(
        extensions=extensions, search_paths=[str(ROOT), str(ROOT / "generated")]
    )
    package = loader.load("voipstudio_async")
    loader.load("voipstudio_history_client")
    loader.resolve_aliases(external=False)
    return package


@pytest.fixture(scope="module")
def api() -> Any:
    return _load_api()


@pytest.mark.parametrize("module", DOCSTRING_MODULES)
def test_every_public_parameter_is_described(api: Any, module: str) -> None:
    undescribed = [
        f"{function.path}({parameter.name})"
        for function in _public_functions(api, module)
        for parameter in function.parameters
        if parameter.name not in ("self", "cls")
        and parameter.name.lstrip("*") not in _described(function)
    ]
    assert undescribed == []


@pytest.mark.parametrize("module", DOCSTRING_MODULES)
def test_every_public_function_says_what_it_returns(api: Any, module: str) -> None:
    silent = [
        function.path
        for function in _public_functions(api, module)
        if not function.name.startswith("__")
        and "property" not in function.labels
        and str(function.returns) != "None"
        and not _sections(function) & {"returns", "yields"}
    ]
    assert silent == []


def _raises_itself(path: str) -> bool:
    """Whether the code at ``path`` holds a ``raise X`` of its own (not a bare re-raise,
    not one in a nested function), read from the runtime object's source."""
    import ast
    import contextlib
    import importlib
    import textwrap

    parts = path.split(".")
    obj: Any = None
    for split in range(len(parts) - 1, 0, -1):  # the longest prefix that is a module
        with contextlib.suppress(ImportError):
            obj = importlib.import_module(".".join(parts[:split]))
            break
    for name in parts[split:]:
        obj = inspect.getattr_static(obj, name)
    obj = inspect.unwrap(getattr(obj, "__func__", obj))
    try:
        source = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):  # a dataclass's generated __init__
        return False
    stack = list(ast.iter_child_nodes(ast.parse(source).body[0]))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Raise) and node.exc is not None:
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


@pytest.mark.parametrize("module", DOCSTRING_MODULES)
def test_a_public_function_that_raises_says_so(api: Any, module: str) -> None:
    silent = []
    for function in _public_functions(api, module):
        if "property" in function.labels or function.name in ("__aenter__", "__aexit__"):
            continue
        sections = _sections(function)
        if function.name == "__init__":
            sections |= _sections(function.parent)
        if "raises" not in sections and _raises_itself(function.path):
            silent.append(function.path)
    assert silent == []


@pytest.mark.parametrize("module", DOCSTRING_MODULES)
def test_the_docstring_checks_see_the_module(api: Any, module: str) -> None:
    # A module with no public function found would pass the checks above proving nothing.
    assert list(_public_functions(api, module))


def test_the_docstring_check_fails_on_an_undescribed_parameter(api: Any) -> None:
    import griffe

    function = api["warehouse.sync"].final_target
    stripped = griffe.Function(
        "sync", parameters=function.parameters, docstring=griffe.Docstring("Run it.")
    )
    assert _described(function) >= {p.name for p in function.parameters}
    assert _described(stripped) == set()


def _errors_guide_measured() -> str:
    """The errors guide's measured paragraphs: from "Measured with" to the deadlines."""
    source = (ROOT / "docs" / "guides" / "errors.md").read_text(encoding="utf-8")
    start = source.index("Measured with `python -m bench.retry_load`")
    return source[start : source.index("**Deadlines bound a whole call.**", start)]


def test_the_errors_guide_quotes_the_retry_load_run(site: Path) -> None:
    measured = _errors_guide_measured()
    assert "retry_load.json:storm.budget.per_call" in measured  # the section was found whole
    typed = re.sub(r"\{\{ bench:.*?\}\}", "", measured)
    # A ratio, a share or a rate written by hand could disagree with the run.
    assert re.findall(rf"\d[\d.,]*\s?(?:{TIMES}|%|req(?:uests)?/s)", typed) == []
    # Beyond the placeholders and code, the only numbers are statuses and the machine's cores.
    numbers = set(re.findall(r"\d+(?:[.,]\d+)*", re.sub(r"`[^`]*`", "", typed)))
    assert numbers <= {"429", "503", "2"}
    run = json.loads((ROOT / "bench" / "results" / "retry_load.json").read_text())
    page = (site / "guides" / "errors.html").read_text(encoding="utf-8")
    shown = _table_rows(page, "client", "goodput (req/s)")
    labels = {
        "sdk-default": "SDK, default limiter",
        "sdk-unlimited": "SDK, rate_limit=None",
        "raw-httpx": "raw httpx, per-request loop sleeping each Retry-After",
    }
    assert set(labels) == set(run["limited"])
    for name, label in labels.items():
        row = run["limited"][name]
        assert shown[label] == [
            f"{row['goodput']:,.0f}",
            f"{row['vs_limit']:.2f}",
            f"{row['share_429']:.1%}",
            f"{row['failed']:,d}",
            f"{row['sent']:,d}",
        ], name
    text = " ".join(_text(page).split())
    storm = run["storm"]
    assert (
        f"With the default budget {storm['budget']['per_call']:.2f} requests are sent per call "
        f"(target {run['targets']['storm']['goal']}); with retry_budget=None, "
        f"{storm['no-budget']['per_call']:.2f}."
    ) in text
    assert (
        f"they sent {storm['budget']['sent_per_s']:,.0f} requests/s with the budget and "
        f"{storm['no-budget']['sent_per_s']:,.0f} without"
    ) in text
    assert f"run {run['when']}" in text and f"this run: {run['verdict']}." in text
    assert "{{ bench:" not in text
