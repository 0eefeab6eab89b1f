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
