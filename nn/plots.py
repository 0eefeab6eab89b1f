"""SVG plots of a training run: the loss curves and a 2-D decision boundary.

    from nn.plots import plot_history, plot_decision_boundary
    plot_history(history, "loss.svg")
    plot_decision_boundary(model, X, y, "boundary.svg", loss=history.task)

Needs matplotlib (the ``train`` extra). Figures are built with
``matplotlib.figure.Figure`` directly, never through pyplot, so no GUI backend
is chosen, nothing changes in a notebook's own matplotlib state, and a
machine with no display is fine. The SVG files are byte-for-byte reproducible:
no date in the metadata and a fixed ``svg.hashsalt`` for element ids.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from .module import Module
from .tasks import get_task, output_width

__all__ = ["plot_decision_boundary", "plot_history", "save_svg"]

_TRAIN, _VAL, _BEST = "#1f77b4", "#d62728", "#555555"
_CLASS_COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)


def _figure(width: float, height: float):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plotting needs matplotlib: pip install 'chainrule[train]' (or matplotlib)"
        ) from None
    return Figure(figsize=(width, height), layout="constrained")


def save_svg(fig: Any, path: str | os.PathLike) -> None:
    """Write ``fig`` as SVG with no timestamp and stable ids, so reruns give the same file."""
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "chainrule", "svg.fonttype": "path"}):
        fig.savefig(os.fspath(path), format="svg", metadata={"Date": None})


# --- the loss curves --------------------------------------------------------------------


def plot_history(history: Any, path: str | os.PathLike | None = None, title: str | None = None):
    """Training and validation loss per epoch (and accuracy, for classifiers).

    ``history`` is an ``nn.History`` (or its ``to_dict()``). The best epoch is
    marked with a dotted line, and epochs where step 4 perturbed the weights
    with small triangles. Writes SVG to ``path`` if given; returns the Figure.
    """
    h = history.to_dict() if hasattr(history, "to_dict") else dict(history)
    epochs = h["epoch"]
    has_acc = any(a is not None for a in h["accuracy"])
    fig = _figure(10.0 if has_acc else 6.0, 4.0)
    axes = fig.subplots(1, 2 if has_acc else 1, squeeze=False)[0]

    ax = axes[0]
    _curve(ax, epochs, h["loss"], "training", _TRAIN, "-")
    _curve(ax, epochs, h["val_loss"], "validation", _VAL, "--")
    values = [v for v in h["loss"] + h["val_loss"] if v is not None and v > 0]
    if values and max(values) / min(values) > 30:
        ax.set_yscale("log")
    perturbed = h.get("perturbed_epochs") or []
    if perturbed:
        ys = [h["loss"][e - 1] for e in perturbed]
        ax.plot(perturbed, ys, "v", color="#9467bd", markersize=5, label="perturbed (step 4)")
    ax.set_ylabel("loss")
    ax.set_title("loss")
    if has_acc:
        ax = axes[1]
        _curve(ax, epochs, [None if a is None else 100 * a for a in h["accuracy"]],
               "training", _TRAIN, "-")
        _curve(ax, epochs, [None if a is None else 100 * a for a in h["val_accuracy"]],
               "validation", _VAL, "--")
        ax.set_ylabel("accuracy (%)")
        ax.set_title("accuracy")
    best = h.get("best_epoch")
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))  # no epoch 2.5
        if best is not None:
            ax.axvline(best, color=_BEST, linestyle=":", linewidth=1, label=f"best epoch {best}")
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    if path is not None:
        save_svg(fig, path)
    return fig


def _curve(ax: Any, epochs: list, values: list, label: str, color: str, style: str) -> None:
    points = [(e, v) for e, v in zip(epochs, values, strict=True) if v is not None]
    if points:
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, style, color=color, linewidth=1.5, label=label)


# --- the decision boundary -----------------------------------------------------------------


def plot_decision_boundary(
    model: Module,
    X: Sequence,
    y: Sequence,
    path: str | os.PathLike | None = None,
    *,
    loss: Any = "auto",
    X_val: Sequence | None = None,
    y_val: Sequence | None = None,
    resolution: int = 60,
    title: str | None = None,
):
    """The classes ``model`` predicts over the plane, with the data on top.

    For 2-D inputs and a classification ``loss`` (a name, or ``history.task``).
    The region of each predicted class is shaded in that class's colour and the
    boundaries between regions are drawn as black lines (where a one-output
    model's output crosses its threshold, or two logits tie). Training points
    are circles, validation points (``X_val``) triangles. Writes SVG to ``path``
    if given; returns the Figure.
    """
    from autograd import no_grad

    if not X or any(len(row) != 2 for row in X):
        raise ValueError("plot_decision_boundary: needs 2-D inputs (rows of two numbers)")
    points = [list(map(float, row)) for row in X] + [list(map(float, r)) for r in X_val or []]
    labels = list(y) + list(y_val or [])
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    pad_x = 0.15 * (max(xs) - min(xs) or 1.0)
    pad_y = 0.15 * (max(ys) - min(ys) or 1.0)
    x0, x1 = min(xs) - pad_x, max(xs) + pad_x
    y0, y1 = min(ys) - pad_y, max(ys) + pad_y
    n = max(10, int(resolution))
    gx = [x0 + (x1 - x0) * i / (n - 1) for i in range(n)]
    gy = [y0 + (y1 - y0) * j / (n - 1) for j in range(n)]

    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outputs = [[model([a, b]) for a in gx] for b in gy]
    finally:
        model.train(was_training)
    task = get_task(loss, labels, output_width(outputs[0][0]))
    if not task.classification:
        raise ValueError(
            f"plot_decision_boundary: loss {task.loss!r} is a regression; "
            "there is no boundary to draw"
        )
    order = list(task.classes)
    order += sorted({t for t in labels if t not in order})  # labels the model never predicts
    k = len(order)
    colors = [_CLASS_COLORS[i % len(_CLASS_COLORS)] for i in range(k)]
    index = {c: i for i, c in enumerate(order)}
    fig = _figure(6.0, 5.2)
    ax = fig.subplots()
    # Each class's region is where its margin is positive; neighbouring regions share
    # their zero line exactly, so the shading has no gaps and the lines are the boundary.
    margins = [[task.margins(o) for o in row] for row in outputs]
    grids = [[[_finite(m[c]) for m in row] for row in margins] for c in range(len(task.classes))]
    for c, grid in enumerate(grids):
        top = max(map(max, grid))
        if top > 0:
            ax.contourf(gx, gy, grid, levels=[0.0, top + 1.0], colors=[colors[c]], alpha=0.25)
    for grid in grids[1:] if len(grids) == 2 else grids:  # two classes: one line suffices
        if min(map(min, grid)) < 0 < max(map(max, grid)):
            ax.contour(gx, gy, grid, levels=[0.0], colors="black", linewidths=1.0)
    n_train = len(X)
    for marker, lo, hi, name in (("o", 0, n_train, "train"), ("^", n_train, len(points), "val")):
        for c in order:
            sel = [i for i in range(lo, hi) if labels[i] == c]
            if sel:
                ax.scatter(
                    [xs[i] for i in sel], [ys[i] for i in sel], s=22, marker=marker,
                    color=colors[index[c]], edgecolors="black", linewidths=0.5,
                    label=f"class {c} ({name})",
                )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title or "decision boundary")
    ax.legend(loc="best", fontsize=8, framealpha=0.8)
    if path is not None:
        save_svg(fig, path)
    return fig


def _finite(x: float) -> float:
    return x if math.isfinite(x) else math.copysign(1e300, x)
