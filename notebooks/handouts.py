"""Lecture handouts: every notebook as one self-contained HTML file, for students and for teachers.

    python notebooks/handouts.py [--out DIR] [NOTEBOOK.ipynb ...]

writes NAME.student.html and NAME.teacher.html for each notebook (all of notebooks/ by
default). The student version leaves out every cell tagged ``solution`` (and the
"Solution" heading above it); the teacher version shows the solution code. A handout
must open in a lecture hall without a network, so nothing is loaded at view time:
LaTeX in Markdown (cells and Markdown outputs) becomes MathML at build time, after nbconvert
has rendered the Markdown
(latex2mathml; browsers render MathML natively), images are embedded, and the
template (handout_template/) drops nbconvert's MathJax, require.js, mermaid and widget
scripts. Its print CSS hides prompts and keeps figures and tables whole.
"""

from __future__ import annotations

import argparse
import copy
import html
import re
import sys
from pathlib import Path

import nbformat
from latex2mathml.converter import convert
from nbconvert import HTMLExporter

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "handout_template"
SOLUTION_TAG = "solution"
STUDENT_NOTE = (
    '<p class="handout-note">The answers are in the teacher\'s version of this handout.</p>'
)
# Math is converted after nbconvert has rendered the Markdown (which leaves $...$ alone for
# MathJax); code, scripts, styles and tags (attributes such as heading anchors) are skipped. $$...$$ before $...$.
_TOKENS = re.compile(
    r"(<pre\b.*?</pre>|<code\b.*?</code>|<script\b.*?</script>|<style\b.*?</style>"
    r"|<[a-zA-Z/!][^>]*>|\$\$.+?\$\$|(?<![\\$])\$[^$\n<]+?\$)",
    re.DOTALL,
)


def _mathml(latex: str, display: bool) -> str:
    latex = html.unescape(latex).strip()
    try:
        ml = convert(latex, display="block" if display else "inline")
    except Exception as err:  # noqa: BLE001 - any parse failure: keep the source readable
        print(f"handouts: could not convert ${latex}$ ({err}); kept as text", file=sys.stderr)
        return f"<code>{html.escape(latex)}</code>"
    return f'<div class="math-display">{ml}</div>' if display else ml


def math_to_mathml(page: str) -> str:
    """Replace every $...$ and $$...$$ of a rendered page, outside code, with MathML."""

    def swap(m: re.Match) -> str:
        token = m.group(0)
        if token.startswith("<"):
            return token
        if token.startswith("$$"):
            return _mathml(token[2:-2], display=True)
        return _mathml(token[1:-1], display=False)

    return _TOKENS.sub(swap, page)


def _is_solution(cell) -> bool:
    return SOLUTION_TAG in cell.metadata.get("tags", [])


def _is_solution_heading(cells, i: int) -> bool:
    cell = cells[i]
    return (
        cell.cell_type == "markdown"
        and cell.source.strip().lstrip("#").strip() == "Solution"
        and i + 1 < len(cells)
        and _is_solution(cells[i + 1])
    )


def student_version(nb):
    """The notebook without its solutions (cells tagged "solution" and their headings)."""
    nb = copy.deepcopy(nb)
    cells = nb.cells
    keep = [c for i, c in enumerate(cells) if not _is_solution(c) and not _is_solution_heading(cells, i)]
    for cell in keep:
        if cell.cell_type == "markdown" and "Each answer is in the collapsed cell" in cell.source:
            cell.source = re.sub(r"Each answer is in the collapsed cell[^\n]*", STUDENT_NOTE, cell.source)
    nb.cells = keep
    return nb


def teacher_version(nb):
    """The notebook with every solution cell's code shown."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if _is_solution(cell):
            cell.metadata.pop("collapsed", None)
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
            cell.metadata.get("jupyter", {}).pop("outputs_hidden", None)
    return nb


def render(nb, title: str) -> str:
    """One self-contained HTML page."""
    exporter = HTMLExporter(
        template_name="handout", extra_template_basedirs=[str(TEMPLATES)], embed_images=True
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    return math_to_mathml(body)


def build(notebook: Path, out_dir: Path) -> tuple[Path, Path]:
    """Write NAME.student.html and NAME.teacher.html for one notebook."""
    nb = nbformat.read(notebook, as_version=4)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, version in (("student", student_version(nb)), ("teacher", teacher_version(nb))):
        path = out_dir / f"{notebook.stem}.{kind}.html"
        path.write_text(render(version, f"{notebook.stem} ({kind})"), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in notebooks/")
    parser.add_argument("--out", type=Path, default=Path("out/handouts"))
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted(HERE.glob("*.ipynb"))
    for nb_path in notebooks:
        student, teacher = build(nb_path, args.out)
        print(f"{nb_path.name}: {student} and {teacher}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
