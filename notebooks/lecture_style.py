"""Projection-ready plots for the lecture notebooks: one place for font sizes and class colours.

A lecture hall projector shrinks everything, and about one man in twelve cannot tell
red from green. Every notebook (except 01) calls ``use()`` in its first cell, so titles,
axis labels, ticks and legends are at least 12 pt, and classes are drawn with the
Okabe-Ito palette, whose colours stay distinct under the common colour-vision
deficiencies. ``deuteranopia(rgb)`` simulates the most common one (Machado, Oliveira
and Fernandes, 2009, severity 1.0) so a figure can be checked by looking at it.
"""

from __future__ import annotations

import io

import matplotlib as mpl
import matplotlib.pyplot as plt

# Okabe & Ito, "Color Universal Design" (2008).
BLUE, ORANGE, GREEN, PURPLE = "#0072B2", "#E69F00", "#009E73", "#CC79A7"
VERMILION, SKY, YELLOW = "#D55E00", "#56B4E9", "#F0E442"
CLASS_COLORS = [ORANGE, BLUE, GREEN, PURPLE]
CLASS_MARKERS = ["o", "s", "^", "D"]
# pale versions of the class colours for filled decision regions
REGION_COLORS = ["#f6deab", "#b3d4ea", "#aee0d2", "#efd0e2"]
# for a probability p(y = 1 | x): pale orange (class 0) to pale blue (class 1), through white
PROB_CMAP = mpl.colors.LinearSegmentedColormap.from_list(
    "orange_white_blue", ["#f2c46d", "#ffffff", "#74acd6"]   # pale ends, so class markers stand out
)
MIN_FONT = 12

# Machado et al. (2009): linear RGB -> what a deuteranope sees, severity 1.0.
_DEUTERANOPIA = [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.011820, 0.042940, 0.968881],
]


def use() -> None:
    """Set matplotlib's defaults for projection: 12 pt text or larger, colour-blind-safe cycle."""
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "font.size": MIN_FONT,
            "axes.titlesize": 13,
            "axes.labelsize": MIN_FONT,
            "xtick.labelsize": MIN_FONT,
            "ytick.labelsize": MIN_FONT,
            "legend.fontsize": MIN_FONT,
            "legend.title_fontsize": MIN_FONT,
            "figure.titlesize": 14,
            "axes.prop_cycle": mpl.cycler(
                color=[BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, "#000000", YELLOW]
            ),
        }
    )


def _to_linear(c):
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _to_srgb(c):
    c = min(1.0, max(0.0, c))
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def deuteranopia_color(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """One sRGB colour (components 0..1) as a deuteranope sees it."""
    lin = [_to_linear(c) for c in rgb]
    return tuple(_to_srgb(sum(m * c for m, c in zip(row, lin))) for row in _DEUTERANOPIA)


def deuteranopia(image):
    """An RGB(A) image array (floats 0..1, as ``plt.imread`` gives) as a deuteranope sees it."""
    import numpy as np  # matplotlib's own dependency

    img = np.asarray(image, dtype=float)
    rgb = img[..., :3]
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    sim = np.clip(lin @ np.array(_DEUTERANOPIA).T, 0.0, 1.0)
    out = np.where(sim <= 0.0031308, 12.92 * sim, 1.055 * sim ** (1 / 2.4) - 0.055)
    return np.concatenate([out, img[..., 3:]], axis=-1) if img.shape[-1] == 4 else out


def figure_pixels(fig):
    """The figure rendered to an RGBA array, as it would appear in the notebook."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    buf.seek(0)
    return plt.imread(buf)
