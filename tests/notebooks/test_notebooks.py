"""The lecture notebooks: each runs top to bottom, and each is committed with its outputs.

Every ``notebooks/*.ipynb`` is executed fresh (outputs cleared first) in its own
python3 kernel, started with the interpreter that runs pytest (so the project's
venv), with ``notebooks/`` as the working directory. A cell that raises fails the
test and the error names the cell. Each notebook must run in under a minute: the
kernel's CPU time is measured (not the wall clock, which other work on a shared
machine stretches) and must stay below ``CPU_BUDGET``. The committed copies must
keep their outputs, so readers on the web see the graphs and plots without
running anything.

Each notebook is a separate test, so ``pytest -n 2`` runs two kernels side by side.
"""

from __future__ import annotations

import copy
import importlib.util
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets import default

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
EXPECTED = [
    "01_backprop_by_hand.ipynb",
    "02_perceptrons_to_xor.ipynb",
    "03_training_mlps.ipynb",
    "04_testing_gradients.ipynb",
    "05_second_order.ipynb",
    "06_delta_rule.ipynb",
    "07_perceptrons_and_capacity.ipynb",
    "08_to_pytorch.ipynb",
    "09_convex_regions_and_capacity.ipynb",
    "10_output_and_hidden_units.ipynb",
    "11_handwritten_digits.ipynb",
    "12_cost_surfaces_and_depth.ipynb",
]
CELL_TIMEOUT = 120  # seconds per cell
CPU_BUDGET = 60.0  # seconds of kernel CPU time per notebook
# Appended to the executed copy, never to the committed file: the kernel's own CPU time.
_CPU_PROBE = (
    "import resource as _r\n"
    "_u = _r.getrusage(_r.RUSAGE_SELF)\n"
    "print(_u.ru_utime + _u.ru_stime)"
)
_HAS_RESOURCE = importlib.util.find_spec("resource") is not None
IMAGE_TYPES = ("image/png", "image/svg+xml")


class _ThisInterpreter(KernelSpecManager):
    """Resolve every kernel name to an ipykernel run by this very interpreter.

    A user-level kernelspec named python3 (pointing at some other Python) must not
    decide which environment the notebooks are tested in.
    """

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python 3 ({sys.executable})",
            language="python",
        )


class _ThisInterpreterKernelManager(KernelManager):
    """A kernel manager (owned and shut down by nbclient) that uses ``_ThisInterpreter``."""

    @default("kernel_spec_manager")
    def _this_interpreter(self) -> KernelSpecManager:
        return _ThisInterpreter(data_dir=self.data_dir)


def _code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _missing_requirements(nb) -> list[str]:
    """Optional packages the notebook lists in its metadata ("chainrule": {"requires":
    [...]}) that are not installed here."""

    def installed(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except ImportError:  # e.g. a parent package that is missing
            return False

    return [n for n in nb.metadata.get("chainrule", {}).get("requires", []) if not installed(n)]


def _read(path: Path):
    return nbformat.read(path, as_version=4)


# Notebooks that end with exercises: each answer is a collapsed, hidden code cell
# tagged "solution", under a "Solution" heading, that checks itself with assert.
EXERCISES = [
    "01_backprop_by_hand.ipynb", "02_perceptrons_to_xor.ipynb", "03_training_mlps.ipynb",
    "06_delta_rule.ipynb", "07_perceptrons_and_capacity.ipynb",
    "09_convex_regions_and_capacity.ipynb",
]


@pytest.mark.parametrize("name", EXERCISES)
def test_exercise_answers_are_hidden_and_checked(name: str):
    nb = _read(NOTEBOOK_DIR / name)
    solutions = [i for i, c in enumerate(nb.cells) if "solution" in c.metadata.get("tags", [])]
    assert solutions, f"{name}: no cell tagged 'solution'"
    for i in solutions:
        cell = nb.cells[i]
        assert cell.cell_type == "code", f"{name}: solution cell {i} is not code"
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, (
            f"{name}: solution cell {i} shows its source"
        )
        assert cell.metadata.get("collapsed") is True, f"{name}: solution cell {i} is not collapsed"
        assert "assert " in cell.source, f"{name}: solution cell {i} checks nothing"
        heading = nb.cells[i - 1]
        assert heading.cell_type == "markdown" and "Solution" in heading.source, (
            f"{name}: solution cell {i} has no 'Solution' heading above it"
        )


def test_all_lecture_notebooks_are_present():
    names = [p.name for p in NOTEBOOKS]
    missing = [name for name in EXPECTED if name not in names]
    assert not missing, f"notebooks missing from {NOTEBOOK_DIR}: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_keeps_its_outputs(path: Path):
    nb = _read(path)
    nbformat.validate(nb)
    cells = _code_cells(nb)
    assert cells, f"{path.name} has no code cells"
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(cells)}; "
        "run the notebook top to bottom in a fresh kernel and save it with its outputs"
    )
    empty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and not cell.outputs]
    assert not empty, (
        f"{path.name}: code cells {empty} have no outputs (a stripped notebook?); "
        "commit it executed, with outputs"
    )
    errors = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and any(o.output_type == "error" for o in cell.outputs)
    ]
    assert not errors, f"{path.name}: committed with errors in cells {errors}"
    images = sum(
        1
        for cell in cells
        for o in cell.outputs
        if o.output_type in ("display_data", "execute_result")
        and any(kind in o.get("data", {}) for kind in IMAGE_TYPES)
    )
    assert images, f"{path.name}: no rendered graph or plot among the committed outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path):
    committed = _read(path)
    missing = _missing_requirements(committed)
    if missing:
        pytest.skip(f"{path.name} needs {', '.join(missing)}: pip install \"chainrule[interop]\"")
    nb = copy.deepcopy(committed)
    for cell in _code_cells(nb):
        cell.outputs = []
        cell.execution_count = None
    if _HAS_RESOURCE:
        nb.cells.append(nbformat.v4.new_code_cell(_CPU_PROBE))

    client = NotebookClient(
        nb,
        kernel_name="python3",
        kernel_manager_class=_ThisInterpreterKernelManager,
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name}: a cell raised\n{err}", pytrace=False)
    wall = time.perf_counter() - start

    if _HAS_RESOURCE:
        probe = nb.cells.pop()
        cpu = float("".join(o.get("text", "") for o in probe.outputs).strip())
        assert cpu < CPU_BUDGET, (
            f"{path.name}: the kernel used {cpu:.1f} s of CPU ({wall:.1f} s wall clock); "
            f"a notebook must run in under {CPU_BUDGET:.0f} s"
        )
    ran = [cell.execution_count for cell in _code_cells(nb)]
    assert None not in ran, f"{path.name}: code cells were not executed: {ran}"
    assert len(ran) == len(_code_cells(committed)), (
        f"{path.name}: {len(ran)} code cells executed, {len(_code_cells(committed))} committed"
    )
    assert ran == list(range(1, len(ran) + 1)), f"{path.name}: cells ran out of order: {ran}"


# Projection-ready: every notebook calls lecture_style.use() (12 pt text or more,
# colour-blind-safe class colours) and sets no smaller font anywhere.
STYLED = EXPECTED


@pytest.mark.parametrize("name", STYLED)
def test_figures_use_projection_fonts(name: str):
    nb = _read(NOTEBOOK_DIR / name)
    code = "\n".join(c.source for c in _code_cells(nb))
    assert "lecture_style import" in code and "use()" in code, (
        f"{name} does not call lecture_style.use()"
    )
    small = [int(n) for n in re.findall(r"fontsize\s*=\s*(\d+)", code) if int(n) < 12]
    assert not small, f"{name} sets font sizes {small} (below 12 pt)"


@pytest.mark.parametrize("name", STYLED)
def test_graph_drawings_fit_a_screen(name: str):
    """Every committed SVG output is at most 1400 x 800 pt (about 1870 x 1070 px)."""
    nb = _read(NOTEBOOK_DIR / name)
    for i, cell in enumerate(_code_cells(nb)):
        for out in cell.outputs:
            svg = out.get("data", {}).get("image/svg+xml")
            if not svg:
                continue
            m = re.search(r'<svg[^>]*?width="([\d.]+)pt"[^>]*?height="([\d.]+)pt"', svg)
            assert m, f"{name}: code cell {i}: an SVG without a size"
            w, h = float(m.group(1)), float(m.group(2))
            assert w <= 1400 and h <= 800, f"{name}: code cell {i}: a {w:.0f} x {h:.0f} pt drawing"
