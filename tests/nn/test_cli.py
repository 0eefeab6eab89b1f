"""The command line, end to end: python -m nn train / predict (nn.__main__.main)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import nn
from nn.__main__ import main

pytest.importorskip("matplotlib")

SVG = "{http://www.w3.org/2000/svg}svg"
FILES = ["model.json", "history.json", "loss.svg", "boundary.svg", "graph.svg"]


def run(argv):
    """main(argv) in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small training run shared by the tests below."""
    out = tmp_path_factory.mktemp("run") / "out"
    code, stdout, stderr = run([
        "train", "--n", "60", "--epochs", "12", "--patience", "5", "--out", str(out),
    ])
    return out, code, stdout, stderr


def test_train_writes_every_file_and_they_are_valid(trained):
    out, code, stdout, stderr = trained
    assert code == 0, stderr
    assert sorted(os.listdir(out)) == sorted(FILES)
    for name in ("loss.svg", "boundary.svg", "graph.svg"):
        root = ET.parse(out / name).getroot()
        assert root.tag == SVG, name
    model = nn.load(out / "model.json")
    assert isinstance(model, nn.MLP)
    assert [layer.nout for layer in model.layers] == [16, 16, 1]
    history = nn.History.from_dict(json.loads((out / "history.json").read_text()))
    assert 1 <= history.epochs_run <= 12
    assert history.task["loss"] == "bce_logits"
    assert history.config["dataset"] == "moons" and history.config["n_train"] == 45
    # The saved weights are those the summary scored: the validation accuracy matches.
    final = history.config["final"]["val"]
    assert f"{100 * final['accuracy']:.1f}%" in stdout


def test_train_prints_a_summary_and_clean_lines_without_a_terminal(trained):
    _, _, stdout, stderr = trained
    assert "moons (n=60, noise=0.1, seed=0): 45 training, 15 validation examples" in stdout
    assert "loss bce_logits; adam lr=0.05; full batch" in stdout
    assert "best epoch" in stdout and "wall time" in stdout
    assert "wrote" in stdout and "model.json, history.json, loss.svg" in stdout
    assert "epoch  1/12  loss" in stdout  # progress as plain lines, not a bar
    assert "\r" not in stdout + stderr and stderr == ""


def test_predict_prints_outputs_and_classes(trained, tmp_path):
    out = trained[0]
    model = nn.load(out / "model.json")
    points = [[0.0, 1.0], [1.5, -0.5], [-0.5, 0.25]]
    expected = nn.predict(model, points, loss="bce_logits")
    code, stdout, _ = run(["predict", str(out / "model.json"), "0,1", "1.5,-0.5", "-0.5,0.25"])
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].split() == ["point", "output", "class"]
    assert [int(line.split()[-1]) for line in lines[1:]] == expected
    assert float(lines[1].split()[1]) == pytest.approx(model([0.0, 1.0]).data, rel=1e-3)

    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2\n0,1\n1.5,-0.5\n-0.5,0.25\n")
    code, from_csv, _ = run(["predict", str(out / "model.json"), "--csv", str(csv)])
    assert code == 0 and from_csv == stdout


def test_python_dash_m_nn_runs(trained):
    out = trained[0]
    proc = subprocess.run(
        [sys.executable, "-m", "nn", "predict", str(out / "model.json"), "-1,0.5"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].split()[0] == "-1,0.5"


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "--dataset", "mnist"], "invalid choice: 'mnist' (choose from 'and', 'or', 'xor'"),
    (["train", "--activation", "swish"], "invalid choice: 'swish'"),
    (["train", "--loss", "l1"], "invalid choice: 'l1' (choose from 'auto', 'mse'"),
    (["train", "--optimizer", "rmsprop"], "invalid choice: 'rmsprop' (choose from 'sgd'"),
    (["train", "--epochs", "-3"], "argument --epochs: must be an integer >= 1, got -3"),
    (["train", "--hidden", "16,x"], "argument --hidden: expected layer widths separated by"),
    (["train", "--batch-size", "0"], 'argument --batch-size: must be >= 1 (or "full")'),
    (["train", "--val-split", "1.5"], "argument --val-split: must be a number in [0, 1)"),
    (["train", "--dataset", "spirals", "--loss", "hinge"], "--loss hinge is for two classes"),
    (["predict", "missing.json", "0,1"], "model file 'missing.json' not found"),
    (["predict"], "the following arguments are required: model"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, tmp_path):
    code, stdout, stderr = run([*argv, "--out", str(tmp_path / "o")] if argv[0] == "train"
                               else argv)
    assert code == 2
    assert message in stderr
    assert "usage: chainrule" in stderr
    assert not (tmp_path / "o").exists()


def test_predict_checks_the_points(trained):
    model = str(trained[0] / "model.json")
    code, _, stderr = run(["predict", model, "1,2,3"])
    assert code == 2 and "'1,2,3' has 3 numbers; the model takes 2" in stderr
    code, _, stderr = run(["predict", model, "1,abc"])
    assert code == 2 and "not a comma-separated list of numbers" in stderr
    code, _, stderr = run(["predict", model])
    assert code == 2 and "give points" in stderr


def test_a_failure_midway_leaves_out_untouched(monkeypatch, tmp_path):
    import nn.plots

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(nn.plots, "plot_history", broken)
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.json").write_text("old model")  # a previous run's file
    (out / "notes.txt").write_text("mine")
    code, _, stderr = run(["train", "--n", "20", "--epochs", "2", "--out", str(out)])
    assert code == 1
    assert "disk on fire" in stderr
    assert sorted(os.listdir(out)) == ["model.json", "notes.txt"]
    assert (out / "model.json").read_text() == "old model"  # not overwritten
    assert sorted(os.listdir(tmp_path)) == ["out"]  # the staging directory is gone

    fresh = tmp_path / "new" / "deeper"
    code, _, _ = run(["train", "--n", "20", "--epochs", "2", "--out", str(fresh)])
    assert code == 1 and not (tmp_path / "new").exists()


def test_regression_run_skips_the_boundary_and_predicts_values(tmp_path):
    out = tmp_path / "sine"
    code, stdout, stderr = run([
        "train", "--dataset", "sine", "--n", "30", "--epochs", "3", "--optimizer", "sgd",
        "--momentum", "0.9", "--lr", "0.01", "--batch-size", "8", "--schedule", "cosine",
        "--l2", "0.001", "--perturb", "0.01", "--hidden", "8", "--out", str(out),
    ])
    assert code == 0, stderr
    assert "boundary.svg skipped: inputs are not 2-D" in stdout
    assert sorted(os.listdir(out)) == sorted(set(FILES) - {"boundary.svg"})
    config = json.loads((out / "history.json").read_text())["config"]
    assert config["batch_size"] == 8 and config["optimizer"] == "SGD"
    assert config["schedule"] == "CosineAnnealing" and config["perturb"] == 0.01
    code, stdout, _ = run(["predict", str(out / "model.json"), "0.5", "-1.5"])
    assert code == 0
    lines = stdout.splitlines()
    assert lines[0].split() == ["point", "output"]  # regression: no class column
    model = nn.load(out / "model.json")
    assert float(lines[2].split()[1]) == pytest.approx(model([-1.5]).data, rel=1e-3)


def test_plots_are_reproducible_svg(trained, tmp_path):
    from nn.plots import plot_history

    history = nn.History.from_dict(json.loads((trained[0] / "history.json").read_text()))
    plot_history(history, tmp_path / "a.svg")
    plot_history(history, tmp_path / "b.svg")
    a = (tmp_path / "a.svg").read_bytes()
    assert a == (tmp_path / "b.svg").read_bytes()
    assert b"<dc:date>" not in a


def test_boundary_plot_for_three_classes_and_not_for_regression(tmp_path):
    from nn.plots import plot_decision_boundary

    X, y = nn.make_blobs(30, centers=[[0, 0], [3, 0], [0, 3]], std=0.3, seed=0)
    nn.manual_seed(0)
    model = nn.MLP(2, [3])
    plot_decision_boundary(model, X[:20], y[:20], tmp_path / "b.svg", X_val=X[20:],
                           y_val=y[20:], resolution=15)
    text = (tmp_path / "b.svg").read_text()
    assert ET.fromstring(text).tag == SVG
    for c in range(3):  # matplotlib keeps each text as a comment beside its glyph paths
        assert f"<!-- class {c} (train) -->" in text and f"<!-- class {c} (val) -->" in text
    assert "fill-opacity: 0.25" in text  # the shaded class regions
    with pytest.raises(ValueError, match="regression"):
        plot_decision_boundary(model, X, [0.5] * 30, loss="mse")
