"""The last line of a test run that skipped tests: what was skipped and how to run it.

tests/conftest.py prints it; here it runs in a small project of its own (a copy of
that conftest, the Makefile and pyproject.toml, and a few tests that skip the way
the real ones do), so the result does not depend on what is installed here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

TESTS = {
    "interop/test_to_torch.py": """
        import sys
        import pytest
        sys.modules["torch"] = None  # as if torch were not installed
        torch = pytest.importorskip("torch", reason="PyTorch is not installed")

        def test_uses_torch():
            pass
    """,
    "interop/test_missing_extra.py": """
        def test_runs_without_torch():
            pass
    """,
    "notebooks/test_notebooks.py": """
        import pytest

        @pytest.mark.parametrize("name", ["01_intro", "08_to_pytorch"])
        def test_notebook(name):
            if name.startswith("08"):
                pytest.skip(f"{name}.ipynb needs torch: pip install chainrule[interop]")
    """,
    "autograd/test_micrograd_compat.py": """
        import sys
        import pytest
        sys.modules["micrograd"] = None
        pytest.importorskip("micrograd")

        def test_same_as_micrograd():
            pass
    """,
    "nn/test_pipes.py": """
        import pytest

        @pytest.mark.skipif(True, reason="named pipes need os.mkfifo")
        def test_pipe():
            pass

        def test_file():
            pass
    """,
}


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "tests").mkdir()
    shutil.copy2(REPO / "tests" / "conftest.py", tmp_path / "tests" / "conftest.py")
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(REPO / name, tmp_path / name)
    for name, code in TESTS.items():
        path = tmp_path / "tests" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(code), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_the_last_lines_say_what_was_skipped_and_how_to_run_it(project, workers):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *workers, "tests"],
        capture_output=True, text=True, timeout=300, cwd=project,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert re.fullmatch(r"3 passed, 4 skipped in .*", lines[-1]), lines[-1]
    head, _, rest = lines[-2].partition(": ")
    assert head == "skipped 4"
    torch_pin = re.search(r"torch==[\w.]+", (REPO / "Makefile").read_text()).group(0)
    assert set(rest.split("; ")) == {
        f"2 need torch (interop, notebook 08): pip install {torch_pin}",
        '1 need micrograd (autograd): pip install "chainrule[bench]"',
        "1 for other reasons (pytest -rs says which)",
    }


def test_nothing_skipped_adds_no_line(project):
    for name in list(TESTS)[:1] + list(TESTS)[2:]:
        (project / "tests" / name).unlink()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests"], capture_output=True, text=True, timeout=300, cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "skipped" not in proc.stdout
