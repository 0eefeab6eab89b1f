"""The lecture's worked example: f = (w_x x + w_y y) w_q + w_z z at (x, y, z) = (-3, 7, -5).

By hand, with q = w_x x + w_y y and f = q w_q + w_z z:
  df/dw_x = df/dq * dq/dw_x = w_q x      df/dx = w_q w_x
  df/dw_y = df/dq * dq/dw_y = w_q y      df/dy = w_q w_y
  df/dw_q = q                            df/dz = w_z
  df/dw_z = z                            df/dq = w_q
Backprop forms exactly these products (each gradient is one multiplication of
two data values by the incoming 1.0), so the comparison is exact.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value


def examples(fraction: float) -> int:
    """This file's share of the active profile's example count (tests/conftest.py)."""
    return max(10, int(fraction * settings.default.max_examples))


X, Y, Z = -3.0, 7.0, -5.0
ROOT = Path(__file__).resolve().parents[2]


def lecture_graph(wx, wy, wq, wz):
    w = {"w_x": Value(wx, label="w_x"), "w_y": Value(wy, label="w_y"),
         "w_q": Value(wq, label="w_q"), "w_z": Value(wz, label="w_z")}
    x, y, z = Value(X, label="x"), Value(Y, label="y"), Value(Z, label="z")
    q = w["w_x"] * x + w["w_y"] * y
    f = q * w["w_q"] + w["w_z"] * z
    return f, q, w, (x, y, z)


def hand(wx, wy, wq, wz):
    q = wx * X + wy * Y
    return {
        "f": q * wq + wz * Z,
        "w_x": wq * X, "w_y": wq * Y, "w_q": q, "w_z": Z,
        "x": wq * wx, "y": wq * wy, "z": wz, "q": wq,
    }


def test_lecture_weights_all_one():
    # With every weight 1: q = 4, f = 4 - 5 = -1; df/dw = (x, y, q, z) = (-3, 7, 4, -5).
    f, q, w, (x, y, z) = lecture_graph(1.0, 1.0, 1.0, 1.0)
    f.backward()
    assert (q.data, f.data) == (4.0, -1.0)
    assert [w[k].grad for k in ("w_x", "w_y", "w_q", "w_z")] == [-3.0, 7.0, 4.0, -5.0]
    assert (x.grad, y.grad, z.grad, q.grad) == (1.0, 1.0, 1.0, 1.0)


@settings(max_examples=examples(1.0), deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=4, max_size=4))
def test_lecture_gradients_equal_the_hand_chain_rule(weights):
    f, q, w, (x, y, z) = lecture_graph(*weights)
    f.backward()
    want = hand(*weights)
    assert f.data == want["f"]
    for k in ("w_x", "w_y", "w_q", "w_z"):
        assert w[k].grad == want[k], k
    assert (x.grad, y.grad, z.grad, q.grad) == (want["x"], want["y"], want["z"], want["q"])


def test_python_m_autograd_lecture_prints_the_gradients():
    from autograd import lecture

    weights = dict(lecture.WEIGHTS)
    want = hand(weights["w_x"], weights["w_y"], weights["w_q"], weights["w_z"])
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run(
        [sys.executable, "-m", "autograd.lecture"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env=env, check=False,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "MISMATCH" not in out
    for name in ("w_x", "w_y", "w_q", "w_z"):
        lines = [ln for ln in out.splitlines() if ln.strip().startswith(name + " ")]
        assert lines, f"no line for {name} in:\n{out}"
        numbers = [float(t) for t in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?",
                                                lines[-1])]
        assert want[name] in numbers, f"{name}: {want[name]} not in {lines[-1]!r}"
    assert "-3" in out and "7" in out and "-5" in out  # the inputs are shown
