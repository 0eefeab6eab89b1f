"""The best epoch: which one it is, its weights, and when patience runs out."""

from __future__ import annotations

import math

from autograd import Value

from .history import History

__all__ = ["BestEpoch"]


class BestEpoch:
    """Tracks the lowest monitored loss (validation loss, or training loss without
    validation) for early stopping and ``restore_best``.

    An epoch is a new best when its loss is below the best so far by more than
    ``min_delta`` (the first epoch always is). ``keep`` snapshots the weights of
    each new best, as numbers in parameter order, so ``restore`` can put them back.
    """

    def __init__(self, params: list[Value], min_delta: float, patience: int | None,
                 keep: bool) -> None:
        self.params = params
        self.min_delta = min_delta
        self.patience = patience
        self.keep = keep
        self.value = math.inf
        self.state: list[float] | None = None
        self.since = 0  # epochs since the last new best

    def update(self, history: History, epoch: int, monitored: float) -> None:
        """Record ``epoch``'s monitored loss; a new best goes into ``history.best_epoch``."""
        if monitored < self.value - self.min_delta or history.best_epoch is None:
            self.value = monitored
            history.best_epoch = epoch
            self.since = 0
            if self.keep:  # the numbers, in parameter order (no names to walk for)
                self.state = [p.data for p in self.params]
        else:
            self.since += 1

    def out_of_patience(self) -> bool:
        """True when early stopping is on and no new best came for ``patience`` epochs."""
        return self.patience is not None and self.since >= self.patience

    def restore(self) -> None:
        """Put the best epoch's weights back (nothing if none was kept)."""
        if self.state is None:
            return
        for p, v in zip(self.params, self.state, strict=True):  # finite: check_weights saw them
            p.data = v
