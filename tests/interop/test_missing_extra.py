"""Without the interop extra: nn imports and works, and the interop functions say what
to install. These tests need neither torch nor onnx: they hide them if present."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import nn

HINT = 'pip install "chainrule[interop]"'


@pytest.fixture
def hidden(monkeypatch):
    """Make ``import name`` fail as if the package were not installed (None in
    sys.modules is how Python marks a module that must not be imported)."""

    def hide(*names):
        for name in names:
            monkeypatch.setitem(sys.modules, name, None)

    return hide


def test_to_torch_without_torch_names_the_extra(hidden):
    hidden("torch")
    with pytest.raises(ImportError, match=r"nn.to_torch needs the optional package 'torch'") as err:
        nn.to_torch(nn.MLP(2, [1]))
    assert HINT in str(err.value)
    assert isinstance(err.value.__cause__, ImportError)


def test_from_torch_without_torch_names_the_extra(hidden):
    hidden("torch")
    with pytest.raises(ImportError, match="nn.from_torch needs the optional package 'torch'") as e:
        nn.from_torch(object())
    assert HINT in str(e.value)


def test_to_onnx_without_onnx_names_the_extra_and_writes_nothing(hidden, tmp_path):
    hidden("onnx")
    with pytest.raises(ImportError, match="nn.to_onnx needs the optional package 'onnx'") as err:
        nn.to_onnx(nn.MLP(2, [1]), tmp_path / "m.onnx")
    assert HINT in str(err.value)
    assert not any(tmp_path.iterdir())


BLOCKED = r'''
import importlib.abc
import sys

class Blocker(importlib.abc.MetaPathFinder):
    """Pretend torch, onnx and onnxruntime are not installed."""
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "onnx", "onnxruntime"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocker())

import nn  # must not need any of them

model = nn.MLP(2, [3, 1], activation="tanh")
assert model([0.5, -1.0]).data == model([0.5, -1.0]).data
for call in (lambda: nn.to_torch(model), lambda: nn.from_torch(model),
             lambda: nn.to_onnx(model, "never-written.onnx")):
    try:
        call()
    except ImportError as err:
        print(err)
    else:
        raise SystemExit("no ImportError")
print("loaded:", sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "onnx"}))
'''


def test_a_fresh_interpreter_without_the_extra(tmp_path):
    """The real path: nothing imports torch or onnx until asked, then a clear error."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BLOCKED)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4, done.stdout
    for line, (who, package) in zip(
        lines, [("nn.to_torch", "torch"), ("nn.from_torch", "torch"), ("nn.to_onnx", "onnx")],
        strict=False,
    ):
        assert line.startswith(f"{who} needs the optional package '{package}'"), line
        assert HINT in line
    assert lines[3] == "loaded: []"
    assert not (tmp_path / "never-written.onnx").exists()
