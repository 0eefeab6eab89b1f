"""Hypothesis profiles for the whole test suite (settings only).

``default``: modest example counts and no deadline (graph building makes the
first examples slow, and CI machines vary), so ``make test`` stays fast.
``thorough``: ten times the examples, random (never derandomized), and longer
random-DAG and state-machine runs: ``make test-thorough``, before an issue is
resolved.
``ci`` (chosen when CI is set): the default, derandomized, so a CI run is
reproducible and never goes red on an example no one can replay.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    parent=settings.get_profile("default"),
    max_examples=1000,
)
settings.register_profile(
    "ci",
    parent=settings.get_profile("default"),
    derandomize=True,
    database=None,
)
_default = "ci" if os.environ.get("CI") else "default"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))


def _steady_growth(marks: list[int]) -> float:
    """The typical growth between successive memory marks: the median step.

    A leak adds the same bytes at every step, so it moves the median; a one-off
    allocation (a dict resizing, a buffer another thread fills while the machine is
    busy) moves one or two steps and leaves the median alone. Comparing the first
    and last marks instead lets a single such event fail a test under load.
    """
    steps = sorted(b - a for a, b in zip(marks, marks[1:], strict=False))
    if len(steps) < 5:
        raise ValueError(f"steady_growth needs at least 6 marks, got {len(marks)}")
    middle = len(steps) // 2
    return steps[middle] if len(steps) % 2 else (steps[middle - 1] + steps[middle]) / 2


@pytest.fixture
def steady_growth():
    """``steady_growth(marks)``: the median growth between successive memory marks."""
    return _steady_growth
