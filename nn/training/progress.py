"""The progress bar (tqdm, on a terminal only) and the one-line epoch summary it shows."""

from __future__ import annotations

import sys

from .history import History

__all__ = ["format_epoch", "progress_bar", "progress_bar_shown"]


def progress_bar_shown(progress: bool = True) -> bool:
    """Whether ``fit(progress=progress)`` draws a bar: stderr is a terminal and tqdm imports."""
    if not progress:
        return False
    stream = sys.stderr
    isatty = getattr(stream, "isatty", None)
    if stream is None or isatty is None or not isatty():
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:  # the optional "train" extra is not installed
        return False
    return True


def progress_bar(progress: bool, total: int):
    """A tqdm bar on stderr, or None (progress off, stderr not a TTY, tqdm missing)."""
    if not progress_bar_shown(progress):
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="train", unit="epoch", file=sys.stderr, dynamic_ncols=True)


def format_epoch(history: History) -> str:
    """The last epoch's figures as one line: "loss 0.1234  acc 95.0%  val_loss ..."."""
    i = len(history.epoch) - 1
    parts = [f"loss {history.loss[i]:.4f}"]
    if history.accuracy[i] is not None:
        parts.append(f"acc {100 * history.accuracy[i]:.1f}%")
    if history.val_loss[i] is not None:
        parts.append(f"val_loss {history.val_loss[i]:.4f}")
    if history.val_accuracy[i] is not None:
        parts.append(f"val_acc {100 * history.val_accuracy[i]:.1f}%")
    return "  ".join(parts)
