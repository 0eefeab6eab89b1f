"""notebooks/lecture_style.py: projection fonts and class colours a deuteranope can tell apart."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

PATH = Path(__file__).resolve().parents[2] / "notebooks" / "lecture_style.py"


@pytest.fixture(scope="module")
def style():
    spec = importlib.util.spec_from_file_location("lecture_style", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["lecture_style"] = module
    spec.loader.exec_module(module)
    return module


def _closest(style, colors) -> float:
    sim = [style.deuteranopia_color(mcolors.to_rgb(c)) for c in colors]
    return min(math.dist(a, b) for i, a in enumerate(sim) for b in sim[i + 1:])


def test_use_sets_every_text_size_to_at_least_12_pt(style):
    with plt.rc_context():
        style.use()
        for key in ("font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
                    "ytick.labelsize", "legend.fontsize"):
            size = plt.rcParams[key]
            assert isinstance(size, (int, float)) and size >= 12, f"{key} is {size}"


def test_simulation_merges_red_and_green_but_not_the_class_colours(style):
    assert _closest(style, ["tab:red", "tab:green"]) < 0.15        # what a deuteranope loses
    assert _closest(style, style.CLASS_COLORS[:3]) > 0.3          # the three the notebooks use
    assert style.deuteranopia_color((1.0, 1.0, 1.0)) == pytest.approx((1.0, 1.0, 1.0), abs=1e-3)


def test_image_simulation_matches_the_colour_simulation(style):
    np = pytest.importorskip("numpy")
    colors = [mcolors.to_rgb(c) for c in (*style.CLASS_COLORS, "tab:red", "white")]
    image = np.array([colors + [(0.2, 0.4, 0.6)]], dtype=float)
    alpha = np.ones(image.shape[:-1] + (1,))
    out = style.deuteranopia(np.concatenate([image, alpha], axis=-1))
    assert out.shape == (1, len(colors) + 1, 4) and (out[..., 3] == 1).all()
    for k, c in enumerate(colors):
        assert tuple(out[0, k, :3]) == pytest.approx(style.deuteranopia_color(c), abs=1e-9)
