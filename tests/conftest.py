"""Hypothesis profiles for the whole test suite (settings only).

``default``: modest example counts and no deadline (graph building makes the
first examples slow, and CI machines vary), so ``make test`` stays fast.
``thorough``: ten times the examples, random (never derandomized), and longer
random-DAG and state-machine runs: ``make test-thorough``, before an issue is
resolved.
``ci`` (chosen when CI is set): the default, derandomized, so a CI run is
reproducible and never goes red on an example no one can replay.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

try:
    import tomllib
except ImportError:  # Python 3.10: tomli, if installed (the skip line then names no extra)
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    parent=settings.get_profile("default"),
    max_examples=1000,
)
settings.register_profile(
    "ci",
    parent=settings.get_profile("default"),
    derandomize=True,
    database=None,
)
_default = "ci" if os.environ.get("CI") else "default"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))


def _steady_growth(marks: list[int]) -> float:
    """The typical growth between successive memory marks: the median step.

    A leak adds the same bytes at every step, so it moves the median; a one-off
    allocation (a dict resizing, a buffer another thread fills while the machine is
    busy) moves one or two steps and leaves the median alone. Comparing the first
    and last marks instead lets a single such event fail a test under load.
    """
    steps = sorted(b - a for a, b in zip(marks, marks[1:], strict=False))
    if len(steps) < 5:
        raise ValueError(f"steady_growth needs at least 6 marks, got {len(marks)}")
    middle = len(steps) // 2
    return steps[middle] if len(steps) % 2 else (steps[middle - 1] + steps[middle]) / 2


@pytest.fixture
def steady_growth():
    """``steady_growth(marks)``: the median growth between successive memory marks."""
    return _steady_growth


# --- one line at the end: what was skipped, and how to run it ------------------------------------

_ROOT = Path(__file__).resolve().parents[1]
# Names a skip reason may use for a package, and the requirement they stand for.
_ALIASES = {"pytorch": "torch", "ipython": "ipykernel"}


def _requirement_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def _install_hints() -> dict[str, str]:
    """package -> how to install it: the pin the Makefile uses (pip install torch==X), else
    the first extra of pyproject.toml, dev aside, that has it."""
    hints: dict[str, str] = {}
    try:
        extras = tomllib.loads((_ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
            "project"]["optional-dependencies"]
    except (AttributeError, OSError, KeyError, ValueError):  # AttributeError: no toml reader
        extras = {}
    for extra, requirements in extras.items():
        for name in map(_requirement_name, requirements):
            if extra != "dev" and not name.startswith("chainrule"):
                hints.setdefault(name, f'pip install "chainrule[{extra}]"')
    try:
        makefile = (_ROOT / "Makefile").read_text(encoding="utf-8")
    except OSError:
        makefile = ""
    for name, pin in re.findall(r"\b([A-Za-z][\w.-]*)==([\w.]+)", makefile):
        hints[name.lower()] = f"pip install {name}=={pin}"
    return hints


_MISSING = re.compile(
    r"could not import|no module named|not installed|not found|missing|unavailable|"
    r"\bneeds?\b|\brequires?\b|\bwithout\b|pip install", re.IGNORECASE)


def _needed_package(reason: str, hints: dict[str, str]) -> str | None:
    """The optional package a skip reason says is missing, if it names one (a reason
    that only mentions a package, say a README block of torch timings, is not that)."""
    if not _MISSING.search(reason):
        return None
    words = set(re.findall(r"[a-z][\w-]*", reason.lower()))
    for name in sorted({*hints, *_ALIASES}, key=len, reverse=True):  # onnxruntime before onnx
        if name in words:
            return _ALIASES.get(name, name)
    return None


def _where(nodeid: str) -> str:
    """ "notebook 08" for a lecture notebook, else the folder under tests/ (interop, nn...),
    or what a file directly in tests/ tests (readme)."""
    notebook = re.search(r"notebooks/.*\[(\d+)", nodeid)
    if notebook:
        return f"notebook {notebook.group(1)}"
    parts = nodeid.split("::")[0].split("/")
    if len(parts) > 2 and parts[0] == "tests":
        return parts[1]
    return re.sub(r"^test_|\.py$", "", parts[-1])  # tests/test_readme.py: "readme"


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after -ra's summary, last
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """``make test`` runs every test it can: say in one line which it could not, and how to
    run them (only -ra would show it otherwise)."""
    try:
        return (yield)
    finally:
        _skip_line(terminalreporter)


def _skip_line(terminalreporter) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    hints = _install_hints()
    needs: dict[str, list[str]] = {}
    other = 0
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        package = _needed_package(reason, hints)
        if package is None:
            other += 1
        else:
            needs.setdefault(package, []).append(_where(report.nodeid))
    parts = []
    for package, places in needs.items():
        where = ", ".join(dict.fromkeys(places))
        how = hints.get(package, f"pip install {package}")
        parts.append(f"{len(places)} need {package} ({where}): {how}")
    if other:
        parts.append(f"{other} for other reasons (pytest -rs says which)")
    terminalreporter.write_line(f"skipped {len(skipped)}: " + "; ".join(parts))


@pytest.fixture(scope="session")
def chromium_paths() -> tuple[str, str]:
    """(chromium, chromedriver) for the browser tests, or a skip naming what is missing."""
    chrome = next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None,
    )
    driver = shutil.which("chromedriver")
    missing = [name for name, p in (("chromium", chrome), ("chromedriver", driver)) if not p]
    if missing:
        pytest.skip(
            f"browser test needs {' and '.join(missing)} on PATH "
            "(Debian: apt-get install -y chromium chromium-driver)"
        )
    return chrome, driver
