"""Write the parts of ``openapi/history.yaml`` that follow from its resource schemas.

``make generate`` runs ``python openapi/derive.py`` before the generator, so a property
added to a resource schema is a one-place edit. Derived, for every schema marked
``x-voipstudio-query: true`` (a collection that takes ``filter`` and ``sort``):

* the ``<Schema>Filter`` query parameter, whose pattern accepts a JSON array of
  ``{"property", "operator", "value"}`` conditions (keys in any order) naming the
  schema's properties, with the operators and value shapes each property's type takes;
* the ``<Schema>Sort`` query parameter and the ``<Schema>SortField`` enum (every
  property but arrays and objects);

and, for every schema with ``x-voipstudio-patch: <Name>``, the ``<Name>`` schema of one
bulk-update item: the record's ``id`` and every property not marked ``readOnly``.

The derived text lives in the spec itself (the generator and the linters read one file)
between ``# BEGIN derived`` and ``# END derived`` comment lines and is rewritten in
place. ``python openapi/derive.py --check`` exits 1, naming the command to run, when the
text there is not what the schemas give.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

SPEC = Path(__file__).resolve().parent / "history.yaml"
BEGIN = "# BEGIN derived by openapi/derive.py from the resource schemas (run `make generate`)"
END = "# END derived"

FILTER_DESCRIPTION = """\
A JSON-encoded array of `{"property", "operator", "value"}` objects,
combined with AND, e.g.
`[{"property":"duration","operator":"gt","value":60}]`. `property` is
a field of the resource; operators are `eq`, `like`, `gt`, `gte`, `lt`,
`lte` (`between` is rejected with 400). `like` takes any value (a bare
value matches as a substring); `eq` also takes `null`; the comparisons
take numbers (or numeric strings) on numeric fields, dates
`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` on date fields and any scalar on
text fields; boolean fields take `eq` with `true`, `false`, `0` or `1`.
The pattern spells this out for JSON: the three keys in any order, with
or without one space after `,` and `:`. Derived from the resource's
schema by `openapi/derive.py`.
"""
SORT_DESCRIPTION = (
    "Field to sort by (the resource's fields but lists and objects). The API's default is `id`."
)
_STRING = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
_NUMBER = r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?"
_SCALAR = f"(?:{_STRING}|{_NUMBER}|true|false)"
_DATE = r'"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?: (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d)?"'
_COMPARE = '"(?:eq|gt|gte|lt|lte)"'
# What each kind of property takes besides `like` (any scalar) and `eq null`: the
# comparison operators and the value shape.
_RULES: dict[str, tuple[str, str]] = {
    "number": (_COMPARE, f'(?:{_NUMBER}|"{_NUMBER}")'),
    "date": (_COMPARE, _DATE),
    "bool": ('"eq"', '(?:true|false|0|1|"(?:true|false|0|1)")'),
    "text": (_COMPARE, _SCALAR),
}
_SCALAR_TYPES = {"integer": "number", "number": "number", "boolean": "bool", "string": "text"}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def kind(spec: dict[str, Any], prop: dict[str, Any]) -> str | None:
    """How a property is filtered: number, date, bool, text, or None (lists, objects)."""
    if prop.get("x-voipstudio-date"):
        return "date"
    schema = _resolve(spec, prop)
    choices = schema.get("anyOf") or schema.get("oneOf")
    if choices:
        kinds = {kind(spec, choice) for choice in choices}
        return "text" if kinds <= {"number", "text", "bool"} and "text" in kinds else None
    return _SCALAR_TYPES.get(schema.get("type", ""))


def _names(props: list[str]) -> str:
    # Longest first, as a reader expects of an alternation; the closing quote makes the
    # order irrelevant to what matches.
    return "|".join(sorted(props, key=lambda name: (-len(name), name)))


def _condition(props: list[str], operator: str, value: str) -> list[str]:
    parts = (
        f'"property": ?"(?:{_names(props)})"',
        f'"operator": ?{operator}',
        f'"value": ?{value}',
    )
    return [", ?".join(order) for order in itertools.permutations(parts)]


def filter_pattern(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    """The ``filter`` pattern of a resource: its properties, each with what its type takes."""
    props = schema["properties"]
    kinds = {name: kind(spec, prop) for name, prop in props.items()}
    alternatives = [
        *_condition(list(props), '"like"', _SCALAR),
        *_condition(list(props), '"eq"', "null"),
    ]
    for rule, (operator, value) in _RULES.items():
        named = [name for name, found in kinds.items() if found == rule]
        if named:
            alternatives += _condition(named, operator, value)
    one = r"\{(?:" + "|".join(alternatives) + r")\}"
    return rf"^\[(?:{one}(?:, ?{one})*)?\]$"


def sort_fields(spec: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """The properties a collection can be sorted by: all but lists and objects."""
    return [
        name
        for name, prop in schema["properties"].items()
        if _resolve(spec, prop).get("type") not in ("array", "object")
    ]


def patch_schema(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """One bulk-update item of a resource: its ``id`` and its writable properties."""
    writable = {
        prop: body
        for prop, body in schema["properties"].items()
        if prop != "id" and not body.get("readOnly")
    }
    return {
        "type": "object",
        "description": (
            f"One item of a bulk {name} update: the record's `id` and the fields to change,"
            f" every {name} property not marked `readOnly` (see openapi/notes.md §9)."
        ),
        "required": ["id"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1, "description": "The record to update."},
            **writable,
        },
    }


def derived(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The derived components: ``{"parameters": {...}, "schemas": {...}}``."""
    parameters: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for name, schema in spec["components"]["schemas"].items():
        if schema.get("x-voipstudio-query"):
            parameters[f"{name}Filter"] = {
                "name": "filter",
                "in": "query",
                "required": False,
                "description": " ".join(FILTER_DESCRIPTION.split()),
                "schema": {"type": "string", "pattern": filter_pattern(spec, schema)},
            }
            parameters[f"{name}Sort"] = {
                "name": "sort",
                "in": "query",
                "required": False,
                "description": SORT_DESCRIPTION,
                "schema": {"$ref": f"#/components/schemas/{name}SortField"},
            }
            schemas[f"{name}SortField"] = {
                "type": "string",
                "description": f"A {name} field a collection can be sorted by (request only).",
                "enum": sort_fields(spec, schema),
            }
        if "x-voipstudio-patch" in schema:
            schemas[schema["x-voipstudio-patch"]] = patch_schema(name, schema)
    return {"parameters": parameters, "schemas": schemas}


def rewrite_blocks(text: str, begin: str, body: Callable[[str], list[str]]) -> tuple[str, set[str]]:
    """``text`` with the lines between each ``<indent><begin> (<section>)`` line and the
    next ``<indent># END derived`` line replaced by ``body(section)``, each line indented
    as the markers are (empty lines stay empty); also the sections found.

    The marker helper of every generator that writes derived text into a hand-written
    file (this one for the spec, ``tools/derive_options.py`` for the client's options).
    """
    block = re.compile(rf"^( *){re.escape(begin)} \((\w+)\)\n.*?^\1{re.escape(END)}\n", re.M | re.S)
    found: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        indent, section = match[1], match[2]
        found.add(section)
        lines = [f"{indent}{line}\n" if line else "\n" for line in body(section)]
        return f"{indent}{begin} ({section})\n{''.join(lines)}{indent}{END}\n"

    return block.sub(replace, text), found


def rewrite(text: str) -> str:
    """The spec's text with every derived block rewritten from its resource schemas."""
    spec = yaml.safe_load(text)
    parts = derived(spec)

    def body(section: str) -> list[str]:
        if section not in parts:
            raise SystemExit(f"derive: unknown derived section {section!r}")
        dumped = yaml.safe_dump(parts[section], sort_keys=False, allow_unicode=True, width=10**9)
        return dumped.splitlines()

    result, found = rewrite_blocks(text, BEGIN, body)
    if found != set(parts):
        missing = ", ".join(sorted(set(parts) - found))
        raise SystemExit(f"derive: no derived block for components/{missing} in the spec")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the spec is not up to date")
    parser.add_argument("spec", nargs="?", type=Path, default=SPEC)
    args = parser.parse_args(argv)
    text = args.spec.read_text(encoding="utf-8")
    new = rewrite(text)
    if args.check:
        if new != text:
            print(
                f"{args.spec.name}: the derived parts (filter patterns, sort enums, patch"
                " schemas) do not follow the resource schemas: run `make generate`",
                file=sys.stderr,
            )
            return 1
        return 0
    if new != text:
        args.spec.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
