"""Packaging and installation: the built wheel, the version, and a clashing ``autograd``.

The wheel test builds from a copy of the source files (so the working tree gets no
build/ directory) and reads the wheel as an installer would: its file list and its
METADATA. The clash tests run ``import nn`` and the ``chainrule`` command in
subprocesses whose sys.path puts a foreign package named ``autograd`` first, as
installing the HIPS autograd from PyPI does.
"""

from __future__ import annotations

import email
import importlib.util
import os
import re
import runpy
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import autograd
import nn
from autograd import _version

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[1]
SETUP = runpy.run_path(str(REPO / "setup.py"), run_name="chainrule_setup")


# --- the version: one source of truth ------------------------------------------------------------


def test_one_version_everywhere():
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)*", _version.__version__)
    assert autograd.__version__ == nn.__version__ == _version.__version__
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in config["project"]  # no second copy to forget
    assert "version" in config["project"]["dynamic"]
    attr = config["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "autograd._version.__version__"


@pytest.mark.parametrize("command", [["-m", "nn", "--version"], ["chainrule", "--version"]])
def test_version_flag(command):
    if command[0] == "chainrule":
        script = Path(sys.executable).parent / "chainrule"
        if not script.exists():
            pytest.skip("the chainrule script is not installed beside this Python")
        argv = [str(script), *command[1:]]
    else:
        argv = [sys.executable, *command]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"chainrule {_version.__version__}"


# --- the wheel ------------------------------------------------------------------------------------

BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "autograd", "nn")


def _setuptools_recent_enough() -> bool:
    if importlib.util.find_spec("setuptools") is None:
        return False
    from importlib.metadata import version

    return int(version("setuptools").split(".")[0]) >= 77


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the wheel once from a copy of the sources; offline when setuptools allows."""
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("wheel")
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, src / name)
    command = [sys.executable, "-m", "pip", "wheel", str(src), "-w", str(out), "--no-deps", "-q"]
    if _setuptools_recent_enough():
        command.append("--no-build-isolation")  # no download: this Python's setuptools builds
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=src)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = out.glob("chainrule-*.whl")
    return built


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(archive.read(name))


def test_wheel_ships_license_type_markers_and_version(wheel):
    assert wheel.name == f"chainrule-{_version.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = f"chainrule-{_version.__version__}.dist-info"
        assert {"autograd/py.typed", "nn/py.typed", "autograd/_version.py"} <= names
        # the stepper's page ships as package data, beside the viz package
        assert {f"autograd/viz/page/stepper.{ext}" for ext in ("html", "css", "js")} <= names
        # every module of the source tree ships: a subpackage missing from pyproject's
        # `packages` (autograd.compile once was) would leave the installed library broken
        sources = {
            path.relative_to(REPO).as_posix()
            for package in ("autograd", "nn")
            for path in (REPO / package).rglob("*.py")
        }
        assert sources - names == set()
        assert f"{dist_info}/licenses/LICENSE" in names
        license_text = archive.read(f"{dist_info}/licenses/LICENSE").decode("utf-8")
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode("utf-8")
    assert license_text == (REPO / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License")
    assert "Copyright (c) 2026 the chainrule authors" in license_text
    assert not any(n.startswith(("tests/", "docs/", "notebooks/")) for n in names)
    assert "chainrule = nn.__main__:main" in entry_points

    meta = _metadata(wheel)
    assert meta["Name"] == "chainrule"
    assert meta["Version"] == _version.__version__
    assert meta["License-Expression"] == "MIT"
    assert meta["License-File"] == "LICENSE"
    assert meta["Description-Content-Type"] == "text/markdown"


def link_targets(markdown: str) -> list[str]:
    """Every link and picture target in Markdown text, outside code (a checker of its own)."""
    text = re.sub(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", "", markdown, flags=re.S | re.M)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = re.findall(r"\]\(\s*<?([^)\s>]+)", text)
    targets += re.findall(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", text, flags=re.M)
    targets += re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']+)""", text, flags=re.I)
    return targets


def test_long_description_has_no_relative_links(wheel):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    relative_in_readme = [t for t in link_targets(readme) if not re.match(r"[a-z]+:|#", t)]
    assert relative_in_readme, "the README has no relative link left: this test checks nothing"

    description = _metadata(wheel).get_payload()
    assert description.startswith("# chainrule")
    relative = [t for t in link_targets(description) if not re.match(r"[a-zA-Z][\w+.-]*:|#", t)]
    assert relative == []
    for target in relative_in_readme:  # no repository URL yet: each becomes a named path
        assert f"`{target}` in chainrule's source repository" in description


def test_console_script_is_declared():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["scripts"] == {"chainrule": "nn.__main__:main"}
    assert config["project"]["license-files"] == ["LICENSE"]
    assert config["tool"]["setuptools"]["package-data"] == {
        "autograd": ["py.typed"],
        "autograd.viz.page": ["*.html", "*.css", "*.js"],  # the stepper's page
        "nn": ["py.typed"],
        "nn.datafiles": ["*.txt.gz"],
    }


# --- the README's first command -----------------------------------------------------------------


def _install_commands() -> list[str]:
    """The pip commands of the README's "Installing" section, in order, comments cut."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Installing")
    section = readme[start:readme.index("\n## ", start + 1)]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if command.startswith("pip "):
                commands.append(command)
    return commands


def test_the_readme_installs_from_a_clone_or_a_wheel_first():
    """chainrule is not on the package index yet: the first command must not need it."""
    commands = _install_commands()
    first = commands[0].split()
    assert first[:2] == ["pip", "install"]
    assert first[-1] == "." or first[-1].startswith(("\".", "dist/")), commands[0]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "`pip install chainrule`" in readme  # the index line, for when it is published
    assert "once chainrule is published" in " ".join(readme.split()).lower()


@pytest.mark.slow
def test_the_readme_first_command_works_in_a_fresh_clone(tmp_path):
    """Run it, as written, in a copy of the source and a new virtual environment."""
    clone = tmp_path / "clone"
    clone.mkdir()
    for name in BUILD_INPUTS:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, clone / name)
    venv = Venv(tmp_path / "venv")
    argv = [sys.executable, "-m", "pip", "--python", str(venv.python),
            *_install_commands()[0].split()[1:], "--no-deps", "-q"]
    # As a newcomer runs it: pip builds in an isolated environment and fetches the
    # setuptools pyproject.toml asks for. (--no-build-isolation would build with the
    # new venv's own setuptools, and a venv made --without-pip has none: it failed
    # wherever this Python's setuptools was new enough to choose that, as after CI
    # installs torch.)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=clone)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # setuptools' "Editable installation ... be careful with folders" notice: a newcomer's
    # first command should print nothing to worry about.
    assert "Warning" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    _works(venv)


# --- make demo and make test: what each installs -------------------------------------------------


def _make_dry_run(target: str, tmp_path: Path) -> list[str]:
    """What ``make TARGET`` would install (``-e ".[extras]"``) into a .venv not made yet."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    proc = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"],
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return re.findall(r'-m pip install (?:--quiet )?-e "([^"]+)"', proc.stdout)


def test_make_demo_installs_only_what_the_demo_needs(tmp_path):
    assert _make_dry_run("demo", tmp_path) == [".[svg,train]"]
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    extras = config["project"]["optional-dependencies"]
    wanted = " ".join(extras["svg"] + extras["train"])
    assert "graphviz" in wanted and "matplotlib" in wanted  # graph.svg; loss and boundary


def test_make_test_still_installs_the_dev_extra(tmp_path):
    assert _make_dry_run("test", tmp_path) == [".[dev]"]


def test_wheel_ships_the_digits_and_they_load_from_it(wheel, tmp_path):
    """nn.load_digits reads a file inside the package: the wheel must carry it, and an
    install made from the wheel alone (no source tree) must find it."""
    name = "nn/datafiles/digits.txt.gz"
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(name) == (REPO / name).read_bytes()
        archive.extractall(tmp_path / "site")
    site = str(tmp_path / "site")
    code = (
        f"import sys; sys.path.insert(0, {site!r}); import nn; X, y = nn.load_digits(); "
        "print(nn.__file__); print(len(X), len(X[0]), sorted(set(y)))"
    )
    # -I: no working tree, no PYTHONPATH, no user site; only the unpacked wheel is added
    proc = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    where, shape = proc.stdout.splitlines()
    assert where.startswith(site)  # the copy imported was the wheel's
    assert shape == f"1797 64 {list(range(10))}"


# --- the README rewrite (setup.py's long_description) ---------------------------------------------

long_description = SETUP["long_description"]

SAMPLE = """\
# Title

![graph](docs/graph.svg) and [notebooks](notebooks/) and [site](https://example.org/x)
and [below](#usage) and `[code](not/a/link)`.

```python
x = a[0](docs/in_code.svg)
```

<img src="docs/raw.png"> <a href="https://example.org">abs</a>
"""


def test_rewrite_against_a_github_repository():
    text = long_description(SAMPLE, "https://github.com/someone/chainrule/")
    base = "https://github.com/someone/chainrule"
    assert f"![graph]({base}/raw/HEAD/docs/graph.svg)" in text
    assert f"[notebooks]({base}/blob/HEAD/notebooks/)" in text
    assert f'<img src="{base}/raw/HEAD/docs/raw.png">' in text
    assert "[site](https://example.org/x)" in text and "[below](#usage)" in text
    assert "`[code](not/a/link)`" in text  # code spans untouched
    assert "x = a[0](docs/in_code.svg)" in text  # fenced code untouched


def test_rewrite_against_another_host_and_with_no_url():
    text = long_description(SAMPLE, "https://docs.example.org/chainrule")
    assert "![graph](https://docs.example.org/chainrule/docs/graph.svg)" in text

    plain = long_description(SAMPLE.replace('<img src="docs/raw.png"> ', ""), None)
    assert "*(picture: graph; `docs/graph.svg` in chainrule's source repository)*" in plain
    assert "notebooks (`notebooks/` in chainrule's source repository)" in plain
    assert "[site](https://example.org/x)" in plain
    assert "x = a[0](docs/in_code.svg)" in plain


def test_rewrite_refuses_links_it_cannot_make_work():
    with pytest.raises(ValueError, match="line 5: the HTML link 'docs/raw.png' is relative"):
        long_description("a\n\n\n\n<img src='docs/raw.png'>\n", None)
    with pytest.raises(ValueError, match="reference link 'docs/a.svg'"):
        long_description("[a]: docs/a.svg\n", None)
    reference = long_description("[a]: docs/a.svg\n", "https://github.com/o/r")
    assert reference == "[a]: https://github.com/o/r/raw/HEAD/docs/a.svg\n"


def test_repository_url_comes_from_project_urls():
    repository_url = SETUP["repository_url"]
    assert repository_url({"project": {}}) is None
    urls = {"Homepage": "https://h.example", "Source": "https://github.com/o/r"}
    assert repository_url({"project": {"urls": urls}}) == "https://github.com/o/r"
    assert repository_url({"project": {"urls": {"homepage": "https://h"}}}) == "https://h"


# --- a foreign package named autograd -------------------------------------------------------------

FOREIGN = '''"""A stand-in for the HIPS autograd: the same top-level name, another API."""
from .differential_operators import grad
'''


def _run(code_or_argv, pythonpath: list[Path], cwd: Path, *, isolated: bool = False):
    argv = code_or_argv if isinstance(code_or_argv, list) else [sys.executable, "-c", code_or_argv]
    if isolated:  # no site-packages: only what PYTHONPATH holds
        argv = [argv[0], "-S", *argv[1:]]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in pythonpath)}
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


@pytest.fixture
def foreign(tmp_path) -> Path:
    """A directory whose ``autograd`` package is not chainrule's."""
    root = tmp_path / "site"
    package = root / "autograd"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FOREIGN, encoding="utf-8")
    (package / "differential_operators.py").write_text("def grad(f):\n    return f\n")
    return root


def _assert_names_the_clash(stderr: str) -> str:
    """The clash in ONE line (no traceback), with the fix; returns the line."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    (line,) = lines
    assert line.startswith("ImportError: chainrule's nn needs chainrule's autograd")
    assert "HIPS 'autograd' package" in line
    assert "separate virtual environment" in line
    assert "-m pip uninstall -y autograd` then `" in line
    assert "-m pip install --force-reinstall --no-deps " in line
    return line


def test_import_nn_names_a_foreign_autograd(foreign, tmp_path):
    proc = _run("import nn", [foreign, REPO], tmp_path)
    assert proc.returncode == 1
    _assert_names_the_clash(proc.stderr)
    assert str(foreign / "autograd" / "__init__.py") in proc.stderr

    fine = _run("import nn, autograd; print(autograd.__file__)", [REPO], tmp_path)
    assert fine.returncode == 0, fine.stderr
    assert fine.stdout.strip() == str(REPO / "autograd" / "__init__.py")


def test_chainrule_command_names_a_foreign_autograd(foreign, tmp_path):
    script = Path(sys.executable).parent / "chainrule"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "nn"]
    proc = _run([*argv, "--version"], [foreign, REPO], tmp_path)
    assert proc.returncode == 1
    _assert_names_the_clash(proc.stderr)


def test_a_deleted_autograd_init_is_named(tmp_path):
    """Uninstalling HIPS removes autograd/__init__.py: what is left is a namespace package."""
    root = tmp_path / "site"
    (root / "autograd").mkdir(parents=True)
    (root / "autograd" / "value.py").write_text("class Value: pass\n")
    (root / "nn").symlink_to(REPO / "nn", target_is_directory=True)
    proc = _run("import nn", [root], tmp_path, isolated=True)
    assert proc.returncode == 1
    _assert_names_the_clash(proc.stderr)
    assert f"a folder with no __init__.py ({root / 'autograd'})" in proc.stderr


def test_an_autograd_that_fails_to_import_is_named(tmp_path):
    """The HIPS package needs numpy; where that import fails, the clash is still named."""
    root = tmp_path / "site"
    (root / "autograd").mkdir(parents=True)
    (root / "autograd" / "__init__.py").write_text("import numpy_that_is_not_installed\n")
    proc = _run("import nn", [root, REPO], tmp_path)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("ImportError: chainrule's nn could not import its engine, autograd")
    assert "numpy_that_is_not_installed" in line
    assert "-m pip install --force-reinstall --no-deps " in line


def test_python_dash_m_nn_names_a_foreign_autograd_in_one_line(foreign, tmp_path):
    proc = _run([sys.executable, "-m", "nn", "--version"], [foreign, REPO], tmp_path)
    assert proc.returncode == 1
    _assert_names_the_clash(proc.stderr)


def test_a_caught_clash_is_an_import_error_and_leaves_other_errors_alone(foreign, tmp_path):
    code = ("try:\n    import nn\nexcept ImportError as err:\n    print(type(err).__name__)\n"
            "raise ValueError('mine')\n")
    proc = _run(code, [foreign, REPO], tmp_path)
    assert proc.stdout.split() == ["EngineClashError"]
    assert "Traceback" in proc.stderr and proc.stderr.strip().endswith("ValueError: mine")


# --- the clash for real: a wheel of chainrule and a package named autograd, in a venv ----------

HIPS_FILES = {
    "autograd/__init__.py": FOREIGN,
    "autograd/differential_operators.py": "def grad(f):\n    return f\n",
}


def _stand_in_hips_wheel(directory: Path) -> Path:
    """A wheel of a distribution named autograd whose top-level package is autograd, as the
    HIPS autograd on PyPI has (its API left out, and numpy with it), built here: offline."""
    import base64
    import hashlib

    info = "autograd-1.9.1.dist-info"
    files = {
        **HIPS_FILES,
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: autograd\nVersion: 1.9.1\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: chainrule-tests\n"
                         "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        data = text.encode("utf-8")
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    path = directory / "autograd-1.9.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


class Venv:
    """A throwaway virtual environment, filled by this Python's pip (--python), offline."""

    def __init__(self, root: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True,
                       timeout=300)
        bin_dir = root / ("Scripts" if os.name == "nt" else "bin")
        self.python = bin_dir / ("python.exe" if os.name == "nt" else "python")
        self.chainrule = bin_dir / ("chainrule.exe" if os.name == "nt" else "chainrule")

    def pip(self, *args: str) -> None:
        command = [sys.executable, "-m", "pip", "--python", str(self.python), *args]
        if args[0] == "install":
            command += ["--no-index", "--no-deps"]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=120,
                              cwd=self.python.parent, env=env)

    def apply_fix(self, line: str) -> None:
        """Run the two commands the message gives, as written (pip run as above)."""
        import shlex

        commands = re.findall(r"`([^`]+)`", line)
        assert len(commands) == 2, line
        for command in commands:
            argv = shlex.split(command)
            assert argv[:3] == [str(self.python), "-m", "pip"], command
            self.pip(*argv[3:])


def _works(venv: Venv) -> None:
    proc = venv.run(str(venv.chainrule), "--version")
    assert (proc.returncode, proc.stdout.strip()) == (0, f"chainrule {_version.__version__}"), \
        proc.stderr
    proc = venv.run(str(venv.python), "-c", "from autograd import Value; import nn; "
                    "print(Value(2.0) * 3)")
    assert proc.returncode == 0 and "data=6.0" in proc.stdout, proc.stderr


def _every_entry_point_says_it_in_one_line(venv: Venv) -> str:
    lines = set()
    for argv in ([str(venv.chainrule), "--version"], [str(venv.python), "-m", "nn", "--version"],
                 [str(venv.python), "-c", "import nn"]):
        proc = venv.run(*argv)
        assert proc.returncode == 1, argv
        lines.add(_assert_names_the_clash(proc.stderr))
    (line,) = lines  # the same message everywhere
    return line


@pytest.mark.slow
def test_the_other_autograd_installed_last(wheel, tmp_path):
    venv = Venv(tmp_path / "venv")
    venv.pip("install", str(wheel))
    venv.pip("install", str(_stand_in_hips_wheel(tmp_path)))
    line = _every_entry_point_says_it_in_one_line(venv)
    assert f"found {venv.python.parent.parent}" in line and "which is not chainrule's" in line
    assert line.endswith(f"--no-deps {wheel}`, or keep chainrule in a separate virtual "
                         "environment")  # the wheel it came from: no package index needed
    venv.apply_fix(line)
    _works(venv)


@pytest.mark.slow
def test_the_other_autograd_installed_first_then_removed(wheel, tmp_path):
    venv = Venv(tmp_path / "venv")
    venv.pip("install", str(_stand_in_hips_wheel(tmp_path)))
    venv.pip("install", str(wheel))
    _works(venv)  # chainrule's files won; pip said nothing
    venv.pip("uninstall", "-y", "autograd")  # takes autograd/__init__.py with it
    line = _every_entry_point_says_it_in_one_line(venv)
    assert "a folder with no __init__.py" in line
    venv.apply_fix(line)
    _works(venv)


def test_the_fix_names_how_chainrule_was_installed(foreign, tmp_path):
    """Here chainrule is installed from this clone (make setup: editable) or not at all."""
    from importlib.metadata import PackageNotFoundError, distribution

    proc = _run("import nn", [foreign, REPO], tmp_path)
    line = _assert_names_the_clash(proc.stderr)
    try:
        direct = distribution("chainrule").read_text("direct_url.json")
    except PackageNotFoundError:
        direct = None
    if direct and '"editable": true' in direct:
        assert f"--force-reinstall --no-deps -e {REPO}`" in line
    else:
        assert "<chainrule's wheel or clone directory>" in line or "--no-deps " in line
