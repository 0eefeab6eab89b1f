"""The README runs: every block gives the result the README states.

The README is read when the tests are collected, so new sections are picked up
without touching this file. The rules, block by block:

- ```python blocks run in README order in one namespace, in one temporary working
  directory (``tempfile`` writes there too), as a reader pasting them into one
  session would. Each block is one test; a test runs the blocks before it first
  (once per process) if they have not run yet.
- Results stated in comments are checked. The README's convention, on a
  top-level one-line statement:
    * ``print(...)  # TEXT``: the line prints TEXT; ``# TEXT: why`` adds a reason.
    * ``expr  # VALUE`` where VALUE starts like a value (a number, a quote, a
      bracket, True/False/None, ``Value(``): ``expr`` equals VALUE as a Python
      literal; parts that are not literals are matched against ``repr`` with
      ``...`` standing for any text; ``# 26 parameters`` compares the number.
    * ``name = expr  # name = VALUE``: ``name`` (its ``.data`` for a Value) is VALUE.
  Any other comment is an explanation; a claim made in one (or in the prose
  next to a block) has an explicit check below, keyed by a snippet of the block
  (``@after_block``). A snippet that no longer matches fails
  ``test_every_explicit_check_finds_its_block``.
- An untagged ``` block is output. Right after a ```python block (only blank
  lines between) it is that block's stdout. One starting with ``$ `` is a shell
  session: the command runs and its stdout is compared (``wall time`` lines by
  their prefix; marked slow). Any other needs a check keyed by its first line
  (``@output_check``), or its test fails: output is never left unchecked.
- ```sh / ```bash / ```console blocks (a transcript, if they start with ``$ ``):
  ``python -m ...`` and ``chainrule``
  commands run for real in a temporary directory that holds ``out/model.json``
  (a 2-input model) and ``points.csv``, and must exit 0; ``pip`` and ``make``
  commands are skipped with the reason given here; any other command is skipped,
  naming it.
- A block whose last preceding non-blank line is
  ``<!-- readme-test: skip (reason) -->`` is skipped with that reason. Blocks in
  other languages are skipped, naming the language.
- A ```python block that imports a package that is not installed, or needs one
  through a call (``draw`` needs graphviz and a renderer, ``show_steps`` needs
  IPython, ``to_onnx`` needs onnx: ``NEEDS``), is skipped with a reason naming it;
  a later block that fails only on a name such a block would have defined is
  skipped too, saying so.

Failures name the README line and the block's first line.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import html
import io
import math
import os
import random
import re
import runpy
import shlex
import subprocess
import sys
import tempfile
import tokenize
import traceback
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

import autograd
import nn
from autograd import Value, grad, gradcheck

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
README_TEXT = README.read_text(encoding="utf-8")
README_WORDS = " ".join(README_TEXT.split())  # prose with line breaks as single spaces

# --- reading the README -----------------------------------------------------------------------

FENCE = re.compile(r"^( {0,3})```\s*([\w+-]*)[^`]*$")  # ```lang, maybe more info
MARKER = re.compile(r"^\s*<!--\s*readme-test:\s*(.*?)\s*-->\s*$")
SKIP_MARKER = re.compile(r"skip\s*\((.+)\)")


@dataclass(frozen=True)
class Block:
    """One fenced block: ``line`` is the README line of its opening fence (1-based)."""

    index: int
    lang: str
    line: int
    code: str
    marker: str | None  # the text of a <!-- readme-test: ... --> just before it
    after_python: bool  # untagged and right after a ```python block (blank lines between)

    @property
    def first(self) -> str:
        return next((s.strip() for s in self.code.splitlines() if s.strip()), "")

    @property
    def where(self) -> str:
        return f"README.md line {self.line}, block starting {self.first!r}"

    @property
    def test_id(self) -> str:
        slug = re.sub(r"[^\w.,=()-]+", "_", self.first)[:40].strip("_")
        return f"L{self.line}-{self.lang or 'output'}-{slug}"


def read_blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    last_close = -1  # index of the closing fence of the previous block
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang = len(m.group(1)), m.group(2).lower()
        j = i + 1
        while j < len(lines) and not lines[j].lstrip().startswith("```"):
            j += 1
        code = "\n".join(line[indent:] if line[:indent].strip() == "" else line.lstrip()
                          for line in lines[i + 1:j])
        before = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        marker = MARKER.match(before)
        gap_is_blank = all(not lines[k].strip() for k in range(last_close + 1, i))
        after_python = (lang in ("", "text") and bool(blocks) and blocks[-1].lang == "python"
                        and gap_is_blank)
        blocks.append(Block(len(blocks), lang, i + 1, code + "\n",
                            marker.group(1) if marker else None, after_python))
        last_close = j
        i = j + 1
    return blocks


BLOCKS = read_blocks(README_TEXT)
PY_BLOCKS = [b for b in BLOCKS if b.lang == "python"]
SHELL_LANGS = {"sh", "bash", "shell", "console"}


def skip_reason(block: Block) -> str | None:
    """The reason of a ``<!-- readme-test: skip (reason) -->`` marker; anything else fails."""
    if block.marker is None:
        return None
    m = SKIP_MARKER.fullmatch(block.marker)
    if not m:
        pytest.fail(f"{block.where}: unknown marker <!-- readme-test: {block.marker} -->; "
                    "the one marker is <!-- readme-test: skip (reason) -->", pytrace=False)
    return f"{block.where}: marked in the README: {m.group(1)}"


# --- what a block needs -----------------------------------------------------------------------

EXTRA = {"torch": "interop", "onnx": "interop", "onnxruntime": "interop", "graphviz": "svg",
         "hypothesis": "testing", "matplotlib": "train", "tqdm": "train",
         "IPython": "notebooks"}


def _missing(module: str) -> str | None:
    if find_spec(module) is not None:
        return None
    extra = EXTRA.get(module)
    hint = f' (pip install "chainrule[{extra}]")' if extra else ""
    return f"needs {module}, which is not installed{hint}"


def _renderer_missing() -> str | None:
    missing = _missing("graphviz")
    if missing:
        return missing
    from autograd.viz import which_renderer

    try:
        which_renderer()
    except RuntimeError as err:  # RendererUnavailableError
        return f"needs a Graphviz renderer: {str(err).splitlines()[0]}"
    return None


# A call in a block (regex) -> what it needs, beyond the block's own imports.
NEEDS: list[tuple[str, Callable[[], str | None]]] = [
    (r"(?<![\w.])(draw|to_svg|show|step_through|show_steps)\(", _renderer_missing),
    (r"(?<![\w.])show_steps\(", lambda: _missing("IPython")),
    (r"\bto_onnx\(", lambda: _missing("onnx")),
]


def imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def bound_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


# --- the comment convention -------------------------------------------------------------------

VALUE_LIKE = re.compile(r"""^(-?\.?\d|[\[({'"]|(True|False|None|-?inf|nan)\b|Value\()""")
NUMBER_WITH_UNIT = re.compile(r"^(-?\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?)\s+([A-Za-z][\w\s-]*)$")


def split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` where it is outside brackets and quotes."""
    parts, depth, quote, start, i = [], 0, None, 0, 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
            i = start
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def stated_value(comment: str) -> str:
    """The value part of ``VALUE`` or ``VALUE: why``."""
    head = split_top(comment, ": ")[0]
    return head[:-1] if head.endswith(":") else head


def matches(value: Any, stated: str) -> bool:
    """Whether ``value`` is what the README states (see the module docstring)."""
    try:
        expected = ast.literal_eval(stated)
    except (ValueError, SyntaxError):
        pass
    else:
        return value == expected
    unit = NUMBER_WITH_UNIT.match(stated)
    if unit:
        return value == ast.literal_eval(unit.group(1))
    items = split_top(stated, ",")
    if isinstance(value, tuple) and len(items) == len(value) > 1:
        return all(matches(v, s) for v, s in zip(value, items, strict=True))
    pattern = ".*?".join(re.escape(part) for part in stated.split("..."))
    return re.fullmatch(pattern, repr(value), re.DOTALL) is not None


def comments_by_line(code: str) -> dict[int, str]:
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string[1:].strip()
    return out


# --- running the Python blocks in one session --------------------------------------------------


@dataclass
class Outcome:
    status: str  # "passed", "failed" or "skipped"
    message: str = ""
    stdout: str = ""
    stderr: str = ""
    values: dict[int, Any] = field(default_factory=dict)  # README line -> expression value


class Run:
    """What a block left behind, for the explicit checks."""

    def __init__(self, session: Session, block: Block, outcome: Outcome) -> None:
        self.session, self.block, self.outcome = session, block, outcome
        self.ns = session.ns
        self.memo = session.memo

    def value(self, snippet: str) -> Any:
        """The value of the block's expression statement on the line holding ``snippet``."""
        for offset, text in enumerate(self.block.code.splitlines(), start=1):
            if snippet in text:
                line = self.block.line + offset
                assert line in self.outcome.values, (
                    f"line {line} `{text.strip()}` is not an expression statement")
                return self.outcome.values[line]
        raise AssertionError(f"no line of the block holds {snippet!r}")


BLOCK_CHECKS: list[tuple[str, Callable[[Run], None]]] = []
OUTPUT_CHECKS: list[tuple[str, Callable[[Block, Path], None]]] = []


def after_block(snippet: str):
    """Register a check run right after the ```python block whose code holds ``snippet``."""
    def register(fn: Callable[[Run], None]) -> Callable[[Run], None]:
        BLOCK_CHECKS.append((snippet, fn))
        return fn
    return register


def output_check(first_line: str):
    """Register the check of an untagged output block that starts with ``first_line``."""
    def register(fn: Callable[[Block, Path], None]) -> Callable[[Block, Path], None]:
        OUTPUT_CHECKS.append((first_line, fn))
        return fn
    return register


@contextlib.contextmanager
def inside(directory: Path):
    """cwd and tempfile's directory set to ``directory`` for the duration."""
    old_cwd, old_tmp = os.getcwd(), tempfile.tempdir
    (directory / "tmp").mkdir(exist_ok=True)
    os.chdir(directory)
    tempfile.tempdir = str(directory / "tmp")
    try:
        yield
    finally:
        os.chdir(old_cwd)
        tempfile.tempdir = old_tmp


class Session:
    """One namespace and one directory shared by all the README's Python blocks."""

    def __init__(self, directory: Path, blocks: list[Block] | None = None) -> None:
        self.dir = directory
        self.blocks = PY_BLOCKS if blocks is None else blocks
        self.ns: dict[str, Any] = {"__name__": "__main__"}
        self.memo: dict[str, Any] = {}
        self.outcomes: dict[int, Outcome] = {}
        self.skipped_names: dict[str, Block] = {}

    def outcome(self, block: Block) -> Outcome:
        for b in self.blocks:
            if b.index > block.index:
                break
            if b.index not in self.outcomes:
                self.outcomes[b.index] = self._run(b)
        return self.outcomes[block.index]

    def earlier_trouble(self, block: Block) -> str:
        bad = [f"line {b.line} ({self.outcomes[b.index].status})" for b in self.blocks
               if b.index < block.index and self.outcomes[b.index].status != "passed"]
        return f"\n(earlier blocks not passed: {', '.join(bad)})" if bad else ""

    def _run(self, block: Block) -> Outcome:
        reason = skip_reason(block)
        try:
            tree = ast.parse(block.code, filename=str(README))
        except SyntaxError as err:
            return Outcome("failed", f"{block.where}: does not parse: {err}")
        if reason is None:
            for module in sorted(imported_modules(tree)):
                reason = reason or _missing(module)
            for pattern, need in NEEDS:
                if reason is None and re.search(pattern, block.code):
                    reason = need()
            reason = reason and f"{block.where}: {reason}"
        if reason:
            self.skipped_names.update(dict.fromkeys(bound_names(tree), block))
            return Outcome("skipped", reason)
        ast.increment_lineno(tree, block.line)
        outcome = Outcome("passed")
        comments = {block.line + k: v for k, v in comments_by_line(block.code).items()}
        source = dict(enumerate(block.code.splitlines(), start=block.line + 1))
        with inside(self.dir):
            for stmt in tree.body:
                failure = self._statement(block, stmt, outcome, comments, source)
                if failure is not None:
                    outcome.status, outcome.message = failure
                    return outcome
            run = Run(self, block, outcome)
            for snippet, check in BLOCK_CHECKS:
                if snippet in block.code:
                    try:
                        check(run)
                    except AssertionError as err:
                        outcome.status = "failed"
                        outcome.message = f"{block.where}: check {check.__name__}: {err}"
                        return outcome
                    except Exception as exc:
                        outcome.status = "failed"
                        trace = "".join(traceback.format_exception(exc))
                        outcome.message = f"{block.where}: check {check.__name__} raised:\n{trace}"
                        return outcome
        return outcome

    def _statement(self, block, stmt, outcome, comments, source) -> tuple[str, str] | None:
        line = stmt.lineno
        where = f"{block.where}: line {line} `{source.get(line, '').strip()}`"
        out, err = io.StringIO(), io.StringIO()
        is_expr = isinstance(stmt, ast.Expr)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                if is_expr:
                    code = compile(ast.Expression(stmt.value), str(README), "eval")
                    outcome.values[line] = eval(code, self.ns)
                else:
                    module = ast.Module(body=[stmt], type_ignores=[])
                    exec(compile(module, str(README), "exec"), self.ns)
        except Exception as exc:
            outcome.stdout += out.getvalue()
            outcome.stderr += err.getvalue()
            if isinstance(exc, NameError) and exc.name in self.skipped_names:
                other = self.skipped_names[exc.name]
                return "skipped", (f"{where}: uses {exc.name!r} from the skipped block at "
                                   f"README.md line {other.line}")
            trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__.tb_next))
            return "failed", f"{where} raised:\n{trace}{self.earlier_trouble(block)}"
        outcome.stdout += out.getvalue()
        outcome.stderr += err.getvalue()
        comment = comments.get(line)
        if comment is None or stmt.end_lineno != line:
            return None
        return self._check_comment(stmt, comment, out.getvalue(), outcome, where)

    def _check_comment(self, stmt, comment, printed, outcome, where) -> tuple[str, str] | None:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) \
                and call.func.id == "print":
            shown = printed.rstrip("\n")
            if comment == shown or comment.startswith(shown + ":"):
                return None
            return "failed", f"{where} printed {shown!r}; the README says {comment!r}"
        if isinstance(stmt, ast.Expr) and VALUE_LIKE.match(comment):
            value = outcome.values[stmt.lineno]
            if matches(value, stated_value(comment)):
                return None
            return "failed", f"{where} gave {value!r}; the README says {comment!r}"
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            m = re.match(rf"{re.escape(name)}\s*=\s*(.+)$", comment)
            if m:
                value = self.ns[name]
                value = value.data if isinstance(value, Value) else value
                if not matches(value, stated_value(m.group(1))):
                    return "failed", f"{where}: {name} is {value!r}; the README says {comment!r}"
        return None


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Session:
    return Session(tmp_path_factory.mktemp("readme"))


def report(outcome: Outcome) -> None:
    if outcome.status == "failed":
        pytest.fail(outcome.message, pytrace=False)
    if outcome.status == "skipped":
        pytest.skip(outcome.message)


@pytest.mark.parametrize("block", PY_BLOCKS, ids=[b.test_id for b in PY_BLOCKS])
def test_python_block(session: Session, block: Block) -> None:
    report(session.outcome(block))


# --- output blocks ----------------------------------------------------------------------------

OUTPUT_BLOCKS = [b for b in BLOCKS if b.lang in ("", "text")]


def _output_params() -> list:
    params = []
    for b in OUTPUT_BLOCKS:
        slow = b.first.startswith("$ ") and not b.after_python
        params.append(pytest.param(b, id=b.test_id, marks=[pytest.mark.slow] if slow else []))
    return params


@pytest.mark.parametrize("block", _output_params())
def test_output_block(session: Session, block: Block, tmp_path: Path) -> None:
    reason = skip_reason(block)
    if reason:
        pytest.skip(reason)
    if block.after_python:
        python = next(b for b in PY_BLOCKS if b.index == block.index - 1)
        outcome = session.outcome(python)
        report(outcome)
        want, got = block.code.rstrip("\n").splitlines(), outcome.stdout.rstrip("\n").splitlines()
        diff = "\n".join(difflib.unified_diff(want, got, "README", "printed", lineterm=""))
        if diff:
            pytest.fail(f"{block.where}: the block above (README.md line {python.line}) "
                        f"printed otherwise:\n{diff}", pytrace=False)
        return
    if block.first.startswith("$ "):
        check_session(block, tmp_path)
        return
    checks = [fn for first, fn in OUTPUT_CHECKS if block.first.startswith(first)]
    if not checks:
        pytest.fail(f"{block.where}: no check for this output block; add one to "
                    "tests/test_readme.py (@output_check) or mark it "
                    "<!-- readme-test: skip (reason) -->", pytrace=False)
    for check in checks:
        check(block, tmp_path)


# --- shell commands ---------------------------------------------------------------------------

SKIPPED_COMMANDS = {
    "pip": "installs packages: the environment under test is installed already",
    "make": "make targets set up .venv and run the whole suite, this test included",
}


def command_argv(command: str) -> list[str] | None:
    """The argv that runs a README command here, or None if no rule runs it."""
    words = shlex.split(command, comments=True)
    if words[:1] in (["python"], ["python3"]) and len(words) > 2 and words[1] == "-m":
        return [sys.executable, *words[1:]]
    if words[:1] == ["chainrule"]:
        return [sys.executable, "-m", "nn", *words[1:]]
    return None


def shell_commands(code: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", code)
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def run_command(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    paths = [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def prepare_shell_dir(directory: Path) -> None:
    """What the README's commands read: a saved 2-input model and a CSV of points."""
    (directory / "out").mkdir()
    nn.MLP(2, [16, 16, 1], rng=random.Random(0)).save(directory / "out" / "model.json")
    (directory / "points.csv").write_text("x1,x2\n0.5,-0.2\n-1,0.5\n", encoding="utf-8")


OTHER_BLOCKS = [b for b in BLOCKS if b.lang not in ("python", "", "text")]


@pytest.mark.parametrize("block", OTHER_BLOCKS, ids=[b.test_id for b in OTHER_BLOCKS])
def test_shell_block(block: Block, tmp_path: Path) -> None:
    reason = skip_reason(block)
    if reason:
        pytest.skip(reason)
    if block.lang not in SHELL_LANGS:
        pytest.skip(f"{block.where}: a {block.lang!r} block is not run "
                    "(python, sh/bash/console and untagged output blocks are)")
    prepare_shell_dir(tmp_path)
    if block.first.startswith("$ "):  # a transcript: commands and what they print
        check_session(block, tmp_path)
        return
    skipped, ran = [], 0
    for command in shell_commands(block.code):
        command = shlex.join(shlex.split(command, comments=True))
        word = command.split()[0]
        if word in SKIPPED_COMMANDS:
            skipped.append(f"`{command}` ({SKIPPED_COMMANDS[word]})")
            continue
        argv = command_argv(command)
        if argv is None:
            skipped.append(f"`{command}` (no rule runs {word!r} commands)")
            continue
        result = run_command(argv, tmp_path)
        assert result.returncode == 0, (
            f"{block.where}: `{command}` exited {result.returncode}:\n{result.stderr}")
        ran += 1
    if skipped:
        pytest.skip(f"{block.where}: ran {ran} command(s); not run: " + "; ".join(skipped))


def check_session(block: Block, directory: Path) -> None:
    """A ``$ command`` transcript: run each command, compare its stdout line by line."""
    pieces = re.split(r"^\$ ", block.code, flags=re.MULTILINE)[1:]
    for piece in pieces:
        command, _, shown = piece.partition("\n")
        argv = command_argv(command)
        if argv is None:
            pytest.skip(f"{block.where}: no rule runs `{command}`")
        result = run_command(argv, directory)
        assert result.returncode == 0, (
            f"{block.where}: `{command}` exited {result.returncode}:\n{result.stderr}")
        got, want = result.stdout.splitlines(), shown.rstrip("\n").splitlines()
        # timings differ from run to run: a "wall time" line is compared by its prefix
        got = [w if w.startswith("wall time") and g.startswith("wall time") else g
               for g, w in zip(got, want, strict=False)] + got[len(want):]
        diff = "\n".join(difflib.unified_diff(want, got, "README", "printed", lineterm=""))
        if diff:
            pytest.fail(f"{block.where}: `{command.strip()}` printed otherwise:\n{diff}",
                        pytrace=False)


# --- explicit checks of claims made in explanations and prose ----------------------------------

LECTURE_LEAVES = ("wx", "wy", "wq", "wz")


@after_block("print(wx.grad, wy.grad, wq.grad, wz.grad)")
def lecture_gradients(run: Run) -> None:
    # What later blocks (the drawing, the stepper) must leave as it is.
    run.memo["lecture"] = {name: run.ns[name].grad for name in LECTURE_LEAVES}


def assert_lecture_gradients_unchanged(run: Run) -> None:
    before = run.memo.get("lecture")
    assert before is not None, "the lecture block did not run"
    now = {name: run.ns[name].grad for name in LECTURE_LEAVES}
    assert now == before, f"the leaf gradients changed from {before} to {now}"


@after_block('x = Value(2.0, label="x")')
def value_takes_real_numbers_only(run: Run) -> None:
    # "int, float, or any numbers.Real; anything else is a TypeError"
    assert Value(Fraction(1, 4)).data == 0.25 and Value(3).data == 3.0
    for bad in ("2.0", 1 + 2j, None):
        with pytest.raises(TypeError):
            Value(bad)


@after_block('out = Value(t, (self,), "tanh")')
def custom_closures_in_grad(run: Run) -> None:
    # "grad() runs your closures too; grad(..., create_graph=True) cannot
    # differentiate a closure again, and says which node it met."
    x, w, b, o = (run.ns[k] for k in ("x", "w", "b", "o"))
    (dx,) = grad(o, [x])
    (reference,) = grad((x * w + b).tanh(), [x])
    assert math.isclose(dx.data, reference.data, rel_tol=1e-12), (dx, reference)
    with pytest.raises(TypeError, match="'tanh'"):
        grad(o, [x], create_graph=True)


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text]


def graph_counts(root: Value) -> tuple[int, int]:
    """(values, ops) in the graph behind ``root``, walked here, not by viz."""
    seen, stack = {id(root): root}, [root]
    while stack:
        for p in stack.pop().parents:
            if id(p) not in seen:
                seen[id(p)] = p
                stack.append(p)
    return len(seen), sum(1 for v in seen.values() if v.parents)


@after_block('to_svg(f, "graph.svg")')
def drawing_shows_the_lecture_numbers(run: Run) -> None:
    assert_lecture_gradients_unchanged(run)
    svg = run.value('to_svg(f, "graph.svg")')
    assert Path("graph.svg").read_text(encoding="utf-8") == svg, "to_svg returns what it writes"
    # The drawing shows the numbers of the picture above the block (same data and grads).
    ours = svg_texts(svg)
    picture = svg_texts((REPO / "docs" / "lecture_graph.svg").read_text(encoding="utf-8"))
    numbers = lambda texts: Counter(t for t in texts if t.startswith(("data ", "grad ")))  # noqa: E731
    assert numbers(ours) == numbers(picture), (sorted(ours), sorted(picture))
    assert set(ours) <= set(picture), sorted(set(ours) - set(picture))
    # Outside Jupyter: show writes a temporary file and says where on stderr, and
    # draw and show print what they hold (root, counts, how to render).
    shown = run.value('show(f, color_by="grad")')
    assert shown.path is not None and shown.path.is_file(), shown
    lines = [line for line in run.outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(shown.path) in lines[0], run.outcome.stderr
    values, ops = graph_counts(run.ns["f"])
    for drawn in (run.value("draw(f)"), shown):
        assert f"{values} values and {ops} ops" in repr(drawn), repr(drawn)
        assert "0x" not in repr(drawn)


@after_block('step_through(y, "steps.html")')
def stepper_page(run: Run) -> None:
    page = run.value('step_through(y, "steps.html")')
    assert Path("steps.html").read_text(encoding="utf-8") == page, "returns what it writes"
    assert_lecture_gradients_unchanged(run)  # "the page never changes a .grad"
    y = run.ns["y"]
    assert all(v.grad == 0.0 for v in autograd.topological_order(y))  # nor the neuron's
    # The lines the prose quotes are on the page of the README's own neuron.
    for line in (
        "s = w1*x1 + w2*x2 + b = 0.8*0.5 + (-0.4)*(-1) + 0.1 = 0.9",
        "dy/ds = sigma (1 - sigma) = out * (1 - out) = 0.7109 * (1 - 0.7109) = 0.2055",
        "dy/dw1 = delta(s) * ds/dw1 = 0.2055 * 0.5 = 0.1028",
    ):
        assert f"`{line}`" in README_WORDS, f"the README no longer quotes {line!r}"
        assert line in page, line
    # and the lecture example's summary says what the prose says
    from autograd.lecture import build

    lecture = step_through_page(build()[0])
    assert "decrease w_y (df/dw_y = 14" in lecture and "increase w_x" in lecture
    # Self-contained: nothing is loaded from a URL or another file.
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?!#|data:)[^"'\s>]""", page)
    shown = run.value("show_steps(y)")
    assert html.escape(page, quote=True) in shown.data
    assert shown.path is not None and shown.path.read_text(encoding="utf-8") == page


def step_through_page(root) -> str:
    from autograd.viz import step_through

    return step_through(root)


@after_block("(d2,) = grad(d1, [v])")
def newton_lands_on_a_minimum(run: Run) -> None:
    # print(x)  # ...: f'(x) = 0, f''(x) > 0
    v = Value(run.ns["x"])
    (d1,) = grad(run.ns["f"](v), [v], create_graph=True)
    (d2,) = grad(d1, [v])
    assert abs(d1.data) <= 1e-12 and d2.data > 0, (d1, d2)


@after_block("def test_backprop_matches_finite_differences")
def the_property_test_passes(run: Run) -> None:
    run.ns["test_backprop_matches_finite_differences"]()


@after_block('model.save("xor.json")')
def saved_model_restores(run: Run) -> None:
    model, data = run.ns["model"], run.ns["data"]
    back = nn.load("xor.json")
    for x, _ in data:
        assert [o.data for o in back(x)] == [o.data for o in model(x)]


@after_block("nn.LinearDecay(1.0, 0.1, total_steps=100")
def micrograd_learning_rate(run: Run) -> None:
    # "lr = 1.0 - 0.9 * k / 100, micrograd's demo"
    sched, opt = run.ns["sched"], run.ns["opt"]
    for k in range(101):
        assert math.isclose(sched.lr_at(k), 1.0 - 0.9 * k / 100, abs_tol=1e-12), k
    assert math.isclose(opt.lr, 1.0 - 0.9 * 100 / 100, abs_tol=1e-12), opt.lr


@after_block('loss="auto",')
def training_block_claims(run: Run) -> None:
    history, model, X, y = (run.ns[k] for k in ("history", "model", "X", "y"))
    assert history.task["loss"] == "bce_logits"  # int labels + one output -> "bce_logits"
    labels = run.value("nn.predict(model, X[:5], loss=history.task)")  # class labels
    assert len(labels) == 5 and set(labels) <= {0, 1}
    # patience 30 on validation loss: the best epoch has the lowest validation loss
    best = history.best_epoch
    assert history.val_loss[best - 1] == min(history.val_loss)
    if history.stopped_early:
        assert history.epochs_run - best == 30
    # val_split=0.25, and batch_size=32: ceil(n_train / 32) updates per epoch
    n_train, n_val = history.config["n_train"], history.config["n_val"]
    assert n_train + n_val == len(X) and n_val == 0.25 * len(X), history.config
    assert history.updates == history.epochs_run * math.ceil(n_train / 32), history.updates
    # confusion matrix: rows are true classes
    matrix = run.value("nn.confusion_matrix(nn.predict(model, X), y)")
    assert [sum(row) for row in matrix] == [list(y).count(c) for c in range(len(matrix))]
    accuracy = run.value("nn.accuracy(nn.predict(model, X), y)")
    assert math.isclose(sum(matrix[c][c] for c in range(len(matrix))) / len(y), accuracy)


@after_block("nn.to_torch(model)")
def torch_and_onnx(run: Run) -> None:
    import torch

    model, tmodel, back = run.ns["model"], run.ns["tmodel"], run.ns["back"]
    code = run.block.code
    # tmodel = nn.to_torch(model)  # Sequential(Linear, Tanh, ...), float64
    m = re.search(r"nn\.to_torch\(model\)\s*# Sequential\(([^)]*)\), (\w+)", code)
    assert m, "the comment on nn.to_torch changed: update this check"
    assert [type(layer).__name__ for layer in tmodel] == m.group(1).split(", ")
    assert {p.dtype for p in tmodel.parameters()} == {getattr(torch, m.group(2))}
    # tmodel(batch)  # a (N, 2) batch in, (N, 1) out; agrees with ours to 1e-12
    out = run.value("tmodel(torch.tensor(")
    assert tuple(out.shape) == (1, 1)
    assert abs(out.item() - model([0.5, -1.0]).data) <= 1e-12
    # back = nn.from_torch(tmodel)  # an nn.MLP with the same weights
    assert isinstance(back, nn.MLP)
    assert [p.data for p in back.parameters()] == [p.data for p in model.parameters()]
    # nn.to_onnx(model, "model.onnx")  # input "input" (batch, 2), output "output" (batch, 1)
    import onnx

    m = re.search(r'# input "(\w+)" \((\w+), (\d+)\), output "(\w+)" \((\w+), (\d+)\)', code)
    assert m, "the comment on nn.to_onnx changed: update this check"
    graph = onnx.load("model.onnx").graph
    for value_info, (name, batch, width) in ((graph.input[0], m.group(1, 2, 3)),
                                             (graph.output[0], m.group(4, 5, 6))):
        dims = [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]
        assert (value_info.name, dims) == (name, [batch, int(width)])


@output_check("gradcheck failed:")
def gradcheck_table(block: Block, directory: Path) -> None:
    """The table the README shows for a custom square whose rule forgot its factor 2."""
    claim = "a hand-registered square whose rule forgot the factor 2, in f = square(x)·y"
    assert claim in README_WORDS, "the README no longer says this: update the check"

    def square(x: Value) -> Value:
        out = Value(x.data * x.data, (x,), "square")

        def _backward() -> None:
            x.grad += x.data * out.grad  # the factor 2 forgotten

        out._backward = _backward
        return out

    f = eval("lambda x, y: square(x) * y", {"square": square})  # a top-level <lambda>
    with pytest.raises(AssertionError) as info:
        gradcheck(f, [3.0, 2.0])
    assert str(info.value) == block.code.rstrip("\n")


ANOMALY_SCRIPT = {  # README's "train.py": the statements at the lines its messages name
    1: "import autograd",
    2: "from autograd import Value",
    3: "inf, tiny = Value(float('inf')), Value(1e-310)",
    4: "outside = inf - inf  # nothing is checked outside the block",
    25: "def forward():",
    26: "    with autograd.detect_anomaly():",
    27: "        return inf - inf",
    28: "def backward():",
    29: "    with autograd.detect_anomaly():",
    30: "        y = tiny.log()",
    31: "        y.backward()",
}


@output_check("detect_anomaly: forward of")
def anomaly_messages(block: Block, directory: Path) -> None:
    script = directory / "train.py"
    script.write_text("\n".join(ANOMALY_SCRIPT.get(i, "") for i in range(1, 32)) + "\n")
    names = runpy.run_path(str(script))
    assert math.isnan(names["outside"].data)
    messages = []
    for step in (names["forward"], names["backward"]):
        with pytest.raises(ValueError) as info:  # AnomalyError is a ValueError
            step()
        assert type(info.value).__name__ == "AnomalyError"
        messages.append(str(info.value).replace(str(directory) + os.sep, ""))
    assert messages == block.code.rstrip("\n").splitlines()


# --- claims in prose that are not next to a block ---------------------------------------------


def test_parameter_counts_in_prose() -> None:
    claims = re.findall(r"`((?:nn\.)?MLP\([^`]*\))`,? has (\d+) parameters", README_WORDS)
    assert claims, "the README no longer states a parameter count: update this test"
    for constructor, count in claims:
        model = eval(constructor, {"MLP": nn.MLP, "nn": nn})
        assert model.num_parameters() == len(model.parameters()) == int(count), constructor


def test_errors_table() -> None:
    start = README_TEXT.index("| input | exception | message |")
    rows = []
    for line in README_TEXT[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    assert len(rows) >= 5
    for row in rows:
        m = re.fullmatch(r"\| `(.+)` \| `(\w+)` \| `(.+)` \|", row)
        assert m, f"unreadable row of the errors table: {row}"
        source, exception, message = m.groups()
        with pytest.raises(Exception) as info:
            eval(source, {"Value": Value})
        assert type(info.value).__name__ == exception, (source, info.value)
        pattern = ".*?".join(re.escape(part) for part in message.split("..."))
        assert re.fullmatch(pattern, str(info.value)), (source, str(info.value))


# --- the rules themselves ---------------------------------------------------------------------


def test_every_explicit_check_finds_its_block() -> None:
    for snippet, check in BLOCK_CHECKS:
        assert any(snippet in b.code for b in PY_BLOCKS), (
            f"{check.__name__}: no ```python block holds {snippet!r}")
    for first, check in OUTPUT_CHECKS:
        assert any(b.first.startswith(first) for b in OUTPUT_BLOCKS), (
            f"{check.__name__}: no output block starts with {first!r}")


def test_the_comment_convention() -> None:
    assert matches((2.0, 0.0, "x"), '2.0, 0.0, "x"')
    assert matches(("tanh", (Value(7.0, (Value(1.0),), "+"),)),
                   "\"tanh\", (Value(data=7.0, ..., op='+'),)")
    assert not matches(("tanh", (Value(7.0, (Value(1.0),), "*"),)),
                       "\"tanh\", (Value(data=7.0, ..., op='+'),)")
    assert matches([[4.0, 2.0], [2.0, 12.0]], "[[4.0, 2.0], [2.0, 12.0]]")
    assert not matches([[4.0, 2.0], [2.0, 12.5]], "[[4.0, 2.0], [2.0, 12.0]]")
    assert matches(26, "26 parameters") and not matches(27, "26 parameters")
    assert stated_value("1.1309011226299859: f'(x) = 0") == "1.1309011226299859"
    assert stated_value('{"a": 1}') == '{"a": 1}'
    assert VALUE_LIKE.match("-6.0") and not VALUE_LIKE.match("in Jupyter, displays inline")
    blocks = read_blocks("x\n\n<!-- readme-test: skip (needs a GPU) -->\n```python\nprint(1)\n"
                         "```\n\n```\n1\n```\n")
    assert [(b.lang, b.line, b.marker, b.after_python) for b in blocks] == [
        ("python", 4, "skip (needs a GPU)", False), ("", 8, None, True)]


def test_the_session_rules(tmp_path: Path) -> None:
    text = (
        "```python\nimport not_an_installed_module_xyz\nshared = 1\n```\n\n"
        "```python\nprint(shared)   # 1\n```\n\n"
        "```python\nanswer = 6 * 7\nprint(answer)   # 41: off by one\n```\n\n"
        "```python\nanswer   # 42\n```\n"
    )
    blocks = read_blocks(text)
    session = Session(tmp_path, blocks)
    missing, dependent, wrong, right = (session.outcome(b) for b in blocks)
    assert missing.status == "skipped" and "not_an_installed_module_xyz" in missing.message
    assert dependent.status == "skipped"
    assert "uses 'shared' from the skipped block at README.md line 1" in dependent.message
    assert wrong.status == "failed"
    assert wrong.message.startswith("README.md line 10, block starting 'answer = 6 * 7': "
                                     "line 12 `print(answer)   # 41: off by one` printed '42'")
    assert right.status == "passed" and right.values == {16: 42}


@output_check("{ lambda ; x, w_x")
def compiled_lecture_program(block: Block, directory: Path) -> None:
    """The Compile section shows what its own example prints for ``step.program``."""
    compiled_lecture_code(block, directory)


@output_check("# autograd.compile: 6 equations")
def compiled_lecture_code(block: Block, directory: Path) -> None:
    """The Compile section shows what its own example prints for ``step.code``: run
    that example afresh and compare the generated source line by line."""
    (example,) = [b for b in PY_BLOCKS if "autograd.compile(lecture)" in b.code]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(example.code, "README compile example", "exec"), {})
    printed = out.getvalue().rstrip("\n").splitlines()
    start = printed.index(block.first)
    shown = block.code.rstrip("\n").splitlines()
    assert printed[start : start + len(shown)] == shown, "\n".join(
        difflib.unified_diff(shown, printed[start : start + len(shown)], lineterm="")
    )
