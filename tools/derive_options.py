"""Write the parts of the client that follow from ``ClientOptions``' fields.

``make generate`` runs ``python tools/derive_options.py``, so a client option is declared
once: a field of ``ClientOptions`` (``voipstudio_async/_options.py``) with its type, its
default, its check and its description (the docstring below the field, as griffe and
IDEs read attribute docstrings). Derived from every field that ``ClientOptions.__init__``
takes, in declaration order:

* ``VoipStudio.__init__``'s keyword parameters, each with the field's type and default
  written as in the declaration, and the imports they need (``_client.py``, taken from
  ``_options.py``'s own);
* the options' entries in the Args section of ``VoipStudio``'s docstring, after the
  hand-written entries of the other parameters (credentials, ``base_url``);
* the keys of ``ClientArgs``, the TypedDict that types ``from_env(**options)``.

It is source, not built at run time, so IDEs, type checkers and the docs (static
analysis) see every option with its type and default. The parameters, imports and keys
live between ``# BEGIN derived`` and ``# END derived`` comment lines (``openapi/derive.py``'s
marker helper); a docstring cannot hold comments, so there the entries named after an
option (or after no parameter at all) are the derived ones. ``--check`` exits 1, naming
the command to run, when a file is not what the fields give.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import re
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "openapi"))  # derive.py is a script, not an installed module
from derive import rewrite_blocks  # noqa: E402

OPTIONS = ROOT / "voipstudio_async" / "_options.py"
CLIENT = ROOT / "voipstudio_async" / "_client.py"
BEGIN = "# BEGIN derived from ClientOptions by tools/derive_options.py (run `make generate`)"
WIDTH = 100  # ruff's line-length (pyproject.toml)
_ENTRY = re.compile(r" {8}\*{0,2}(\w+)(?: \(.*\))?:")


class DeriveError(Exception):
    """The declaration cannot be turned into code (the message says what to change)."""


@dataclass(frozen=True)
class Option:
    """One keyword option as declared: its source text and the names that text uses."""

    name: str
    annotation: str
    default: str
    doc: str
    names: frozenset[str]


def _source(text: str, node: ast.expr) -> str:
    segment = ast.get_source_segment(text, node) or ast.unparse(node)
    if "\n" in segment:  # a parenthesized expression over several lines
        segment = " ".join(ast.unparse(node).split())
    return segment


def _names(*nodes: ast.expr) -> frozenset[str]:
    return frozenset(n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name))


def _class(tree: ast.Module, name: str, path: str) -> ast.ClassDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise DeriveError(f"{path}: no class {name}")


def _doc_after(body: list[ast.stmt], index: int) -> str | None:
    """The attribute docstring of ``body[index]``: a string literal right below it."""
    if index + 1 < len(body):
        node = body[index + 1]
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            value = node.value.value
            return value if isinstance(value, str) else None
    return None


def read_options(text: str) -> list[Option]:
    """The init fields of ``ClientOptions`` in ``text`` (the source of ``_options.py``)."""
    options = []
    body = _class(ast.parse(text), "ClientOptions", "_options.py").body
    for index, node in enumerate(body):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        name, default = node.target.id, node.value
        where = f"ClientOptions.{name}"
        if isinstance(default, ast.Call) and ast.unparse(default.func) == "attrs.field":
            keywords = {k.arg: k.value for k in default.keywords if k.arg is not None}
            init = keywords.get("init")
            if isinstance(init, ast.Constant) and init.value is False:
                continue
            default = keywords.get("default")
        if default is None:
            raise DeriveError(f"{where}: an option needs a default (a constant of _constants)")
        doc = _doc_after(body, index)
        if doc is None or not doc.strip():
            raise DeriveError(f'{where}: describe it in a docstring below it ("""...""")')
        if "\\" in doc or '"""' in doc:
            raise DeriveError(f'{where}: its doc goes into a docstring: no backslash or """')
        annotation = node.annotation
        options.append(
            Option(
                name,
                _source(text, annotation),
                _source(text, default),
                " ".join(doc.split()),
                _names(annotation, default),
            )
        )
    if not options:
        raise DeriveError("ClientOptions declares no option")
    return options


def _imports_of(text: str) -> dict[str, tuple[int, str, str | None]]:
    """Where each module-level name of ``_options.py`` comes from: ``(level, module,
    imported name)``; ``imported name`` None for ``import module``. A name the module
    defines itself comes from ``._options``."""
    found: dict[str, tuple[int, str, str | None]] = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found[alias.asname or alias.name.partition(".")[0]] = (0, alias.name, None)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                found[alias.asname or alias.name] = (node.level, node.module or "", alias.name)
        elif isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            found.setdefault(node.name, (1, "_options", node.name))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, (1, "_options", target.id))
    return found


def _member_key(name: str) -> tuple[int, str]:
    # ruff's isort (order-by-type): CONSTANTS, then Classes, then the rest.
    if name.isupper() and len(name) > 1:
        return 0, name
    return (1 if name[:1].isupper() else 2), name


def _from_import(module: str, members: Iterable[str]) -> list[str]:
    ordered = sorted(members, key=_member_key)
    line = f"from {module} import {', '.join(ordered)}"
    if len(line) <= WIDTH:
        return [line]
    return [f"from {module} import (", *(f"    {m}," for m in ordered), ")"]


def import_lines(options: list[Option], options_text: str) -> list[str]:
    """The imports of every name the options' types and defaults use, sorted as ruff's
    isort sorts them: standard library, third party, then the package's own modules."""
    known = _imports_of(options_text)
    plain: dict[int, set[str]] = {0: set(), 1: set()}
    members: dict[tuple[int, str], set[str]] = {}
    for option in options:
        for name in sorted(option.names - set(dir(builtins))):
            if name not in known:
                raise DeriveError(
                    f"ClientOptions.{option.name} uses {name}, which _options.py does not"
                    " import at module level"
                )
            level, module, member = known[name]
            if member is None:
                plain[0 if module in sys.stdlib_module_names else 1].add(module)
            else:
                if level:
                    module = "." * level + module
                group = 2 if level else (0 if module in sys.stdlib_module_names else 1)
                members.setdefault((group, module), set()).add(
                    member if member == name else f"{member} as {name}"
                )
    sections: list[list[str]] = []
    for group in (0, 1, 2):
        lines = [f"import {module}" for module in sorted(plain.get(group, ()))]
        for (found, module), names in sorted(members.items()):
            if found == group:
                lines += _from_import(module, names)
        if lines:
            sections.append(lines)
    return [line for i, lines in enumerate(sections) for line in ([""] if i else []) + lines]


def _fits(lines: list[str], indent: int, where: str) -> list[str]:
    for line in lines:
        if indent + len(line) > WIDTH:
            raise DeriveError(f"{where}: {line.strip()!r} is longer than {WIDTH} columns")
    return lines


def _doc_entry(option: Option) -> list[str]:
    return textwrap.wrap(
        f"{option.name}: {option.doc}",
        width=WIDTH,
        initial_indent=" " * 8,
        subsequent_indent=" " * 12,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _rewrite_docstring(text: str, options: list[Option]) -> str:
    """``VoipStudio``'s docstring with the options' Args entries written after the other
    parameters' (kept as written); an entry that names no parameter is dropped."""
    cls = _class(ast.parse(text), "VoipStudio", "_client.py")
    doc = cls.body[0]
    if not (isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)):
        raise DeriveError("_client.py: VoipStudio has no docstring")
    init = next(
        (n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None
    )
    if init is None:
        raise DeriveError("_client.py: VoipStudio has no __init__")
    args = init.args
    option_names = [option.name for option in options]
    own = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)][1:]
    own = [name for name in own if name not in option_names]
    lines = text.splitlines(keepends=True)
    first, last = doc.lineno - 1, doc.end_lineno or doc.lineno
    body = lines[first:last]
    try:
        start = body.index("    Args:\n") + 1
    except ValueError:
        raise DeriveError("_client.py: VoipStudio's docstring has no Args section") from None
    end = start
    while end < len(body) and body[end].startswith(" " * 8):
        end += 1
    entries: dict[str, list[str]] = {}
    current: list[str] = []
    for line in body[start:end]:
        match = _ENTRY.match(line)
        if match:
            current = entries.setdefault(match[1], [])
        current.append(line)
    kept = [line for name in own for line in entries.get(name, [])]
    derived = [f"{line}\n" for option in options for line in _doc_entry(option)]
    body[start:end] = kept + derived
    lines[first:last] = body
    return "".join(lines)


def _rewrite(text: str, path: Path, blocks: dict[str, list[str]]) -> str:
    def body(section: str) -> list[str]:
        if section not in blocks:
            raise DeriveError(f"{path.name}: unknown derived section {section!r}")
        return blocks[section]

    new, found = rewrite_blocks(text, BEGIN, body)
    if found != set(blocks):
        missing = ", ".join(sorted(set(blocks) - found))
        raise DeriveError(f"{path.name}: no derived block for {missing} (see {BEGIN!r})")
    return new


def derive(options_text: str, client_text: str) -> tuple[str, str]:
    """The new texts of ``_options.py`` and ``_client.py``."""
    options = read_options(options_text)
    params = [f"{o.name}: {o.annotation} = {o.default}," for o in options]
    keys = [f"{o.name}: {o.annotation}" for o in options]
    new_options = _rewrite(options_text, OPTIONS, {"args": _fits(keys, 4, "ClientArgs")})
    client = _rewrite(
        client_text,
        CLIENT,
        {
            # isort wants a blank line between the last import and a comment.
            "imports": [*import_lines(options, options_text), ""],
            "init": _fits(params, 8, "VoipStudio.__init__"),
        },
    )
    return new_options, _rewrite_docstring(client, options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is not up to date")
    parser.add_argument("--options", type=Path, default=OPTIONS, help="the _options.py to read")
    parser.add_argument("--client", type=Path, default=CLIENT, help="the _client.py to write")
    args = parser.parse_args(argv)
    paths = (args.options, args.client)
    texts = [path.read_text(encoding="utf-8") for path in paths]
    try:
        new = derive(*texts)
    except DeriveError as exc:
        print(f"derive_options: {exc}", file=sys.stderr)
        return 2
    stale = [path for path, old, text in zip(paths, texts, new, strict=True) if old != text]
    if args.check:
        for path in stale:
            print(
                f"{path.name}: the parts derived from ClientOptions (VoipStudio.__init__'s"
                " options, their docstring entries, ClientArgs) are not what its fields"
                " give: run `make generate`",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for path, text in zip(paths, new, strict=True):
        if path in stale:
            path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
