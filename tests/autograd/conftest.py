"""Fixtures for the engine's tests."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(params=["walked", "generated"])
def replay_backend(request, monkeypatch) -> str:
    """Run a compile test twice: with every replay walking the Program
    (``autograd.compile.interp``) and with every replay running generated code.
    Left alone, a path is walked for its first ``GENERATE_AFTER`` replays and
    generated after that, so a short test would only ever see the walk."""
    module = sys.modules["autograd.compile"]
    after = 10**9 if request.param == "walked" else 0
    monkeypatch.setattr(module, "GENERATE_AFTER", after)
    return request.param
