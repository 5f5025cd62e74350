"""Install the built wheel as a user would and run it: `make dist`'s last step.

For every Python given, and for the bare package and each extra in pyproject.toml, a
fresh virtual environment under build/dist-check gets the wheel from DIST with the
versions uv.lock holds (``uv export --frozen`` as constraints), then runs
``voipstudio --version`` and ``voipstudio --fake cdrs list --limit 1``. The first failure
stops the run with its output.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "dist-check"


def _run(*args: str | Path, capture: bool = True) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=WORK, capture_output=capture, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(
            f"failed ({result.returncode}): {' '.join(map(str, args))}\n"
            f"{result.stdout}{result.stderr}"
        )
    return result.stdout


def _constraints(uv: str, extra: str | None) -> Path:
    """uv.lock's versions for the package with ``extra``, as a pip constraints file."""
    path = WORK / f"constraints-{extra or 'bare'}.txt"
    args = [
        uv,
        "export",
        "--project",
        str(ROOT),
        "--frozen",
        "--no-dev",
        "--no-hashes",
        "--no-emit-project",
        "--no-header",
        "--no-annotate",
        "--quiet",
    ]
    path.write_text(_run(*args, *(["--extra", extra] if extra else [])))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uv", required=True, help="the uv executable")
    parser.add_argument("dist", type=Path, help="the directory holding the built wheel")
    parser.add_argument("pythons", nargs="+", help="interpreters to install the wheel on")
    args = parser.parse_args()
    (wheel,) = args.dist.resolve().glob("*.whl")
    extras = list(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    WORK.mkdir(parents=True, exist_ok=True)
    constraints = {extra: _constraints(args.uv, extra) for extra in [None, *extras]}
    for python in args.pythons:
        version = _run(python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
        for extra, pins in constraints.items():
            name = extra or "bare"
            venv = WORK / f"py{version.strip()}-{name}"
            _run(args.uv, "venv", "--quiet", "--python", python, venv)
            requirement = f"{wheel}[{extra}]" if extra else str(wheel)
            _run(
                args.uv,
                "pip",
                "install",
                "--quiet",
                "--python",
                venv / "bin" / "python",
                "--constraint",
                pins,
                requirement,
            )
            command = venv / "bin" / "voipstudio"
            shown = _run(command, "--version").strip()
            rows = _run(command, "--fake", "cdrs", "list", "--limit", "1")
            if not rows.strip():
                sys.exit(f"{command} --fake cdrs list --limit 1 printed nothing")
            print(f"Python {version.strip()} [{name}]: {shown}; cdrs list: ok")


if __name__ == "__main__":
    main()
