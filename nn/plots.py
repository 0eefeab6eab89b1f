"""SVG plots of a training run: loss curves, a 2-D decision boundary, and for
classifiers a confusion matrix and the misclassified images.

    from nn.plots import plot_history, plot_decision_boundary
    plot_history(history, "loss.svg")
    plot_decision_boundary(model, X, y, "boundary.svg", loss=history.task)
    plot_confusion_matrix(nn.confusion_matrix(predicted, y), "confusion.svg")
    plot_misclassified(X_digits, y, predicted, "misclassified.svg")

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

__all__ = [
    "plot_confusion_matrix", "plot_decision_boundary", "plot_digits", "plot_history",
    "plot_misclassified", "save_svg",
]

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
        ax.legend(loc="best", fontsize=12, frameon=False)
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
    ax.legend(loc="best", fontsize=12, framealpha=0.8)
    if path is not None:
        save_svg(fig, path)
    return fig


def _finite(x: float) -> float:
    return x if math.isfinite(x) else math.copysign(1e300, x)


# --- classifiers: the confusion matrix and the images they got wrong -------------------------


def plot_confusion_matrix(
    matrix: Sequence[Sequence[int]],
    path: str | os.PathLike | None = None,
    *,
    classes: Sequence[Any] | None = None,
    title: str | None = None,
):
    """Counts ``matrix[true][predicted]`` (``nn.confusion_matrix``) as a grid of numbers.

    Rows are the true classes and columns what each example was taken for, so
    the diagonal holds the correct answers and every other non-zero cell is one
    kind of mistake. Each cell is shaded by its share of its row (blue on the
    diagonal, red off it) and shows its count. ``classes`` names the rows and
    columns (default 0..K-1). Writes SVG to ``path`` if given; returns the Figure.
    """
    rows = [[int(c) for c in row] for row in matrix]
    k = len(rows)
    if k == 0 or any(len(row) != k for row in rows):
        raise ValueError("plot_confusion_matrix: the matrix must be square and non-empty, "
                         f"got {len(rows)} rows of lengths {[len(r) for r in rows]}")
    names = [str(c) for c in (range(k) if classes is None else classes)]
    if len(names) != k:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for {k} classes")
    from matplotlib.colors import to_rgb

    size = 1.6 + 0.45 * k
    fig = _figure(size + 0.4, size)
    ax = fig.subplots()
    colors = []
    for i, row in enumerate(rows):
        total = sum(row) or 1
        line = []
        for j, count in enumerate(row):
            base = to_rgb(_CLASS_COLORS[0] if i == j else _CLASS_COLORS[3])
            share = 0.0 if count == 0 else 0.15 + 0.85 * count / total
            line.append(tuple(1.0 - share * (1.0 - b) for b in base))
        colors.append(line)
    for i, row in enumerate(rows):
        for j, count in enumerate(row):
            ax.add_patch(_cell(j, i, colors[i][j]))
            if count:
                dark = sum(colors[i][j]) < 1.6
                ax.text(j, i, str(count), ha="center", va="center", fontsize=12,
                        color="white" if dark else "black")
    correct = sum(rows[i][i] for i in range(k))
    total = sum(map(sum, rows))
    ax.set_xlim(-0.5, k - 0.5)
    ax.set_ylim(k - 0.5, -0.5)  # row 0 at the top, as the matrix is printed
    ax.set_aspect("equal")
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.tick_params(length=0)
    ax.set_xlabel("taken for (predicted class)")
    ax.set_ylabel("true class")
    for side in ax.spines.values():
        side.set_visible(False)
    accuracy = f"{correct} of {total} right ({100 * correct / total:.1f}%)" if total else ""
    ax.set_title("\n".join(t for t in (title or "confusion matrix", accuracy) if t), fontsize=12)
    if path is not None:
        save_svg(fig, path)
    return fig


def _cell(x: float, y: float, color: Any):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1.0, 1.0, facecolor=color, edgecolor="white",
                     linewidth=1.0)


def plot_digits(
    images: Sequence[Sequence[float]],
    captions: Sequence[str] | None = None,
    path: str | os.PathLike | None = None,
    *,
    columns: int = 10,
    title: str | None = None,
    caption_colors: Sequence[str] | None = None,
):
    """Square grayscale images (rows of w*w pixels, read row by row) in a grid.

    Ink is dark: pixel 0 is white and the largest pixel of all the images black
    (so raw 0-16 digits and scaled 0-1 ones look the same). Each image is stored
    at its own resolution and drawn as sharp squares. ``captions`` go above the images.
    Writes SVG to ``path`` if given; returns the Figure.
    """
    pictures = [[float(v) for v in image] for image in images]
    if not pictures:
        raise ValueError("plot_digits: no images to draw")
    width = math.isqrt(len(pictures[0]))
    if width * width != len(pictures[0]) or any(len(p) != len(pictures[0]) for p in pictures):
        raise ValueError("plot_digits: every image must have the same square number of pixels")
    if captions is not None and len(captions) != len(pictures):
        raise ValueError(f"plot_digits: {len(captions)} captions for {len(pictures)} images")
    top = max(max(p) for p in pictures) or 1.0
    cols = max(1, min(int(columns), len(pictures)))
    nrows = math.ceil(len(pictures) / cols)
    fig = _figure(1.6 * cols + 0.2, 1.6 * nrows + (0.6 if title else 0.1))  # 12 pt captions
    axes = fig.subplots(nrows, cols, squeeze=False)
    for n, ax in enumerate(ax for row in axes for ax in row):
        if n >= len(pictures):
            ax.set_axis_off()
            continue
        grid = [[pictures[n][r * width + c] for c in range(width)] for r in range(width)]
        # interpolation "none": the SVG holds each image at its own w x w pixels (small)
        # and asks viewers to draw them as sharp squares (image-rendering: pixelated)
        ax.imshow(grid, cmap="gray_r", vmin=0.0, vmax=top, interpolation="none")
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():  # a light frame shows the blank border pixels
            side.set_color("#bbbbbb")
            side.set_linewidth(0.6)
        if captions is not None:
            color = "black" if caption_colors is None else caption_colors[n]
            ax.set_title(captions[n], fontsize=12, color=color, pad=2)
    if title:
        fig.suptitle(title, fontsize=12)
    if path is not None:
        save_svg(fig, path)
    return fig


def plot_misclassified(
    X: Sequence[Sequence[float]],
    y: Sequence[Any],
    predicted: Sequence[Any],
    path: str | os.PathLike | None = None,
    *,
    limit: int = 50,
    columns: int = 10,
    title: str | None = None,
):
    """The images whose predicted class is not their label, each captioned with what
    it was taken for ("taken for 8") and what it is ("is 3").

    ``X`` holds square images (the digits' rows of 64 pixels), ``predicted`` the
    classes ``nn.predict`` gave them. At most ``limit`` are drawn, in data order;
    the title says how many there were. With none, the picture says so.
    Writes SVG to ``path`` if given; returns the Figure.
    """
    if not len(X) == len(y) == len(predicted):
        raise ValueError(f"plot_misclassified: {len(X)} images, {len(y)} labels and "
                         f"{len(predicted)} predictions")
    wrong = [i for i, (t, p) in enumerate(zip(y, predicted, strict=True)) if t != p]
    heading = title or "misclassified"
    if not wrong:
        fig = _figure(4.0, 1.6)
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"none of the {len(X)} examples was misclassified",
                ha="center", va="center", fontsize=12)
        fig.suptitle(heading, fontsize=12)
        if path is not None:
            save_svg(fig, path)
        return fig
    shown = wrong[: max(1, int(limit))]
    count = f"{len(wrong)} of {len(X)} misclassified"
    if len(shown) < len(wrong):
        count += f", the first {len(shown)} shown"
    return plot_digits(
        [X[i] for i in shown],
        [f"taken for {predicted[i]}\nis {y[i]}" for i in shown],
        path, columns=columns, title=f"{heading}: {count}",
        caption_colors=[_CLASS_COLORS[3]] * len(shown),
    )
