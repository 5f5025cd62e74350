"""Which facade methods send each operation of the spec (read from ``@calls``).

Imported by the coverage tests, and run as a script by the spec-change check (with another
generated package first on ``sys.path``): ``python tests/_coverage.py SPEC``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import yaml

from voipstudio_async import VoipStudio
from voipstudio_async._operations import operations_of
from voipstudio_async.resources._base import Resource

METHODS = ("get", "post", "put", "patch", "delete")

# Operations no facade method calls, each with the reason.
NOT_IN_FACADE = {
    # Sent by LoginAuth's auth flow (email/password clients) before the first request
    # and on a 401, never by a method of its own.
    "login": "the email/password auth flow (voipstudio_async/_auth.py)",
}


def spec_operations(spec: Path) -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, path), in the spec's order."""
    loaded: dict[str, Any] = yaml.safe_load(spec.read_text(encoding="utf-8"))
    return {
        op["operationId"]: (method.upper(), path)
        for path, item in loaded["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def facade_methods() -> dict[str, tuple[str, ...]]:
    """``"vs.<namespace>.<method>"`` (or ``"vs.<method>"``) -> the operationIds it sends."""
    found = {f"vs.{name}": ops for name, ops in operations_of(VoipStudio).items() if ops}
    client = VoipStudio(user_id=1, api_key="coverage-only")
    try:
        for attribute, value in sorted(vars(client).items()):
            if isinstance(value, Resource):
                for method, ops in operations_of(type(value)).items():
                    found[f"vs.{attribute}.{method}"] = ops
    finally:
        asyncio.run(client.aclose())
    return found


def by_operation(methods: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """operationId -> the facade methods that send it."""
    callers: dict[str, list[str]] = {}
    for method, ops in methods.items():
        for op in ops:
            callers.setdefault(op, []).append(method)
    return callers


def problems(spec: Path) -> list[str]:
    """One line per uncovered operation and per method sending no operation of the spec."""
    operations = spec_operations(spec)
    methods = facade_methods()
    callers = by_operation(methods)
    found = [
        f"operation {op_id} ({method} {path}) is sent by no facade method: add a method to"
        f" the resource in voipstudio_async/resources/ decorated"
        f" @calls(operation({op_id})), or list it in NOT_IN_FACADE (tests/_coverage.py)"
        f" with the reason"
        for op_id, (method, path) in operations.items()
        if op_id not in callers and op_id not in NOT_IN_FACADE
    ]
    for method, ops in sorted(methods.items()):
        if not ops:
            found.append(f"{method} declares no operation: decorate it with @calls(...)")
        found += [
            f"{method} sends {op}, which the spec no longer has"
            for op in ops
            if op not in operations
        ]
    return found


if __name__ == "__main__":
    lines = problems(Path(sys.argv[1]))
    print("\n".join(lines) or "every operation is covered")
    sys.exit(1 if lines else 0)
