"""The batched-replay rows of `make bench`: they run, agree with eager, and print."""

from __future__ import annotations

import io

import pytest

pytest.importorskip("numpy")

from benchmarks import batched  # noqa: E402


def test_map_rows_agree_with_eager_and_print_ratios():
    rows = batched.measure(reps=1, sizes=(20,), with_torch=False)
    (row,) = rows
    assert row["B"] == 20 and row["ours"] > 0 and row["floor"] > 0
    assert row["ours/floor"] == row["ours"] / row["floor"]
    assert row["torch"] is None and row["ours/torch"] is None
    out = io.StringIO()
    batched.print_rows(rows, out)
    text = out.getvalue()
    assert "Batched replay" in text and "    20" in text
    assert "target" not in text  # targets are stated for B = 100 and B = 1000 only


def test_targets_are_judged_from_the_rows():
    rows = [
        {"B": 100, "ours": 1.0, "floor": 2.0, "torch": None, "ours/floor": 0.5,
         "torch/floor": None, "ours/torch": None},
        {"B": 1000, "ours": 3.0, "floor": 30.0, "torch": 1.0, "ours/floor": 0.1,
         "torch/floor": 1 / 30, "ours/torch": 3.0},
    ]
    out = io.StringIO()
    batched.print_rows(rows, out)
    text = out.getvalue()
    assert "at most 0.7x the floor: 0.50x PASS" in text
    assert "at most 2.0x torch: 3.00x FAIL" in text
