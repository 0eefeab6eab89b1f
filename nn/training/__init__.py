"""Training: ``fit``, the lectures' recipe as one call, returning a History.

    history = nn.fit(model, X, y, loss="auto", optimizer="adam", lr=0.05,
                     epochs=200, batch_size=32, val_split=0.25, early_stopping=30)

Each epoch runs the recipe of the lectures over the training data, one batch
at a time (``batch_size=1`` is SGD, ``None`` full-batch gradient descent,
``k`` mini-batches of k shuffled examples):

1. forward: the batch's loss (plus any regularisers) is built as ONE graph;
2. backward: ``loss.backward()`` fills every parameter's ``.grad``;
3. update: ``optimizer.step()``;
4. (optional, ``perturb=eps``) if the epoch's training loss did not go down,
   add U(-eps, eps) noise to every weight: the lecture's "verify that the
   cost has reduced, else perturb the weights randomly".

After the epoch the validation set (if any) is scored under ``no_grad()``
and the learning-rate schedule (if any) takes one step. The best epoch (lowest
validation loss, or training loss without validation) is remembered, with a
snapshot of its weights, and restored at the end when validation or early
stopping is in use. Ctrl-C stops cleanly: you get the History so far and, if
a best epoch was tracked, its weights.

Modules, one purpose each: ``loop`` (fit's epoch loop), ``history`` (History and
its JSON checks), ``checks`` (fit's arguments), ``build`` (optimiser and
schedule by name), ``best`` (best epoch and early stopping), ``scoring``
(validation under no_grad), ``divergence`` (the FloatingPointError checks),
``progress`` (the bar), ``predict`` (predict and evaluate), ``compiled`` and
``float_losses`` (the compiled fast path).
"""

from __future__ import annotations

from .build import OPTIMIZERS, SCHEDULES, make_optimizer, make_schedule
from .checks import check_features
from .history import History
from .loop import fit
from .predict import evaluate, predict
from .progress import format_epoch, progress_bar_shown

__all__ = [
    "History", "OPTIMIZERS", "SCHEDULES", "check_features", "evaluate", "fit", "format_epoch",
    "make_optimizer", "make_schedule", "predict", "progress_bar_shown",
]
