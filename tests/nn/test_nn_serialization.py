"""save/load: bit-exact round trips, clear errors, and atomic writes."""

import json
import os
import random
import subprocess
import sys

import pytest

import nn


def hexes(model):
    return [(name, p.data.hex()) for name, p in model.named_parameters()]


def trained(model, steps=3):
    """Weights no decimal literal would give: a few SGD steps from a random start."""
    xs = [[0.3, -1.1], [1.7, 0.2], [-0.4, 0.9]]
    for _ in range(steps):
        outs = [model(x) for x in xs]
        outs = [o if not isinstance(o, list) else o[0] for o in outs]
        loss = nn.mse_loss(outs, [1.0, -1.0, 0.5])
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad / 3.0
    return model


MODELS = {
    "mlp": lambda: nn.MLP(2, [5, 4, 1]),
    "mlp_tanh_dict": lambda: nn.MLP(
        2, [3, 2], activation="tanh",
        output_activation={"name": "leaky_relu", "negative_slope": 0.2},
    ),
    "mlp_prelu_nobias": lambda: nn.MLP(2, [3, 1], activation="prelu", bias=False),
    "layer": lambda: nn.Layer(2, 3, activation="sigmoid"),
    "neuron": lambda: nn.Neuron(2, activation="elu"),
    "perceptron": lambda: nn.Perceptron([0.5, -0.25], 0.125, activation="tanh"),
    "sequential": lambda: nn.Sequential(
        nn.Layer(2, 3, activation="linear"), nn.PReLU(3), nn.Maxout(3, 2, k=2), nn.RBF(2, 0.5)
    ),
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_round_trip_is_bit_exact(kind, tmp_path):
    random.seed(21)
    model = trained(MODELS[kind]())
    path = tmp_path / "model.json"
    model.save(path)
    loaded = nn.load(path)
    assert type(loaded) is type(model)
    assert loaded.config() == model.config()
    assert hexes(loaded) == hexes(model)
    for x in ([0.1, 0.2], [-1.3, 2.7]):
        a, b = model(x), loaded(x)
        a, b = (a if isinstance(a, list) else [a]), (b if isinstance(b, list) else [b])
        assert [v.data.hex() for v in a] == [v.data.hex() for v in b]


def test_awkward_floats_survive(tmp_path):
    model = nn.Neuron(4)
    tricky = [-0.0, 5e-324, 1.7976931348623157e308, 0.1 + 0.2]
    for w, v in zip(model.w, tricky, strict=True):
        w.data = v
    model.b.data = -1e-310
    nn.save(model, tmp_path / "n.json")
    assert hexes(nn.load(tmp_path / "n.json")) == hexes(model)


def test_file_is_plain_json_with_a_version(tmp_path):
    path = tmp_path / "m.json"
    nn.MLP(3, [5, 1], activation="tanh").save(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "chainrule.nn" and doc["version"] == 1
    assert doc["model"] == {
        "type": "MLP",
        "config": {"nin": 3, "nouts": [5, 1], "activation": "tanh",
                   "output_activation": "linear", "bias": True},
    }
    assert len(doc["parameters"]) == doc["num_parameters"] == 26


def test_load_restores_eval_mode_and_leaves_random_alone(tmp_path):
    model = nn.MLP(2, [3, 1], activation="rrelu").eval()
    model.save(tmp_path / "m.json")
    state = random.getstate()
    loaded = nn.load(tmp_path / "m.json")
    assert random.getstate() == state
    assert not any(m.training for m in loaded.modules())


def test_user_module_with_config_round_trips(tmp_path):
    class Scaled(nn.Module):
        def __init__(self, nin, scale):
            self.nin, self.scale = nin, scale
            self.inner = nn.Neuron(nin, activation="tanh")

        def forward(self, x):
            return self.inner(x) * self.scale

        def config(self):
            return {"nin": self.nin, "scale": self.scale}

    model = Scaled(3, 2.5)
    model.save(tmp_path / "s.json")
    loaded = nn.load(tmp_path / "s.json")
    assert isinstance(loaded, Scaled) and hexes(loaded) == hexes(model)


# --- errors when loading ---------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1]).save(path)
    return path


def edit(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def load_error(path):
    with pytest.raises(ValueError) as err:
        nn.load(path)
    msg = str(err.value)
    assert str(path) in msg  # every message names the file
    return msg


def test_truncated_file(saved):
    text = saved.read_text()
    saved.write_text(text[: len(text) // 2])
    assert "truncated" in load_error(saved)
    saved.write_text("")
    assert "truncated" in load_error(saved)


def test_corrupt_files(saved):
    saved.write_bytes(b"\xff\xfe\x00garbage")
    assert "UTF-8" in load_error(saved)
    saved.write_text("{ not json at all ]")
    assert "corrupt" in load_error(saved)
    saved.write_text("[1, 2, 3]")
    assert "not a chainrule model file" in load_error(saved)
    saved.write_text('{"format": "something.else", "version": 1}')
    assert "something.else" in load_error(saved)


def test_future_and_bad_versions(saved):
    edit(saved, lambda d: d.update(version=2))
    msg = load_error(saved)
    assert "version 2" in msg and "newer" in msg
    edit(saved, lambda d: d.update(version="1"))
    assert "version" in load_error(saved)


def test_missing_extra_and_malformed_weights(saved):
    original = saved.read_text()
    edit(saved, lambda d: d["parameters"].pop("layers.0.neurons.2.w.1"))
    assert "missing keys: ['layers.0.neurons.2.w.1']" in load_error(saved)
    saved.write_text(original)
    edit(saved, lambda d: d["parameters"].update({"layers.5.neurons.0.b": 0.0}))
    assert "unexpected keys: ['layers.5.neurons.0.b']" in load_error(saved)
    saved.write_text(original)
    edit(saved, lambda d: d["parameters"].update({"layers.0.neurons.0.b": "zero"}))
    assert "layers.0.neurons.0.b" in load_error(saved)
    saved.write_text(original)
    saved.write_text(original.replace('"layers.0.neurons.0.b": 0.0', '"layers.0.neurons.0.b": NaN'))
    assert "NaN" in load_error(saved)
    saved.write_text(original)
    edit(saved, lambda d: d.update(num_parameters=12))
    assert "declares 12 parameters but holds 13" in load_error(saved)
    saved.write_text(original)
    edit(saved, lambda d: d.pop("parameters"))
    assert "'parameters'" in load_error(saved)


def test_architecture_that_does_not_match_the_weights(saved):
    edit(saved, lambda d: d["model"]["config"].update(nouts=[4, 1]))
    msg = load_error(saved)
    assert "missing keys" in msg and "layers.0.neurons.3.w.0" in msg


def test_unknown_type_and_bad_config(saved):
    original = saved.read_text()
    edit(saved, lambda d: d["model"].update(type="os.system"))
    assert "unknown module type 'os.system'" in load_error(saved)
    saved.write_text(original)
    edit(saved, lambda d: d["model"]["config"].update(activation="swish"))
    assert "swish" in load_error(saved)
    saved.write_text(original)
    edit(saved, lambda d: d["model"]["config"].update(colour="red"))
    assert "colour" in load_error(saved)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nope.json")


def test_duplicate_keys_are_refused_not_resolved_last_wins(saved):
    text = saved.read_text()
    doc = json.loads(text)
    name, value = next(iter(doc["parameters"].items()))
    twice = f'"{name}": {value!r}, "{name}": 0.5,'
    saved.write_text(text.replace(f'"{name}": {value!r},', twice, 1))
    assert json.loads(saved.read_text())["parameters"][name] == 0.5  # json alone: last wins
    msg = load_error(saved)
    assert f"duplicate key {name!r}" in msg
    saved.write_text(text.replace('"version": 1,', '"version": 1, "version": 1,', 1))
    assert "duplicate key 'version'" in load_error(saved)
    saved.write_text(text.replace('"nin": 2,', '"nin": 2, "nin": 3,', 1))
    assert "duplicate key 'nin'" in load_error(saved)
    saved.write_text(text)
    nn.load(saved)


# --- paths that are not regular files: refused before reading, never waited on --------

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need os.mkfifo")

LOAD_AND_REPORT = """
import sys
import nn
try:
    nn.load(sys.argv[1])
except ValueError as err:
    print(err)
    sys.exit(3)
"""


def run(args, timeout=300):
    """Run python with args in a child: a load that blocks fails the test by timing out
    (subprocess.TimeoutExpired) instead of hanging the suite."""
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@needs_fifo
def test_a_named_pipe_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    result = run(["-c", LOAD_AND_REPORT, str(fifo)])
    assert result.returncode == 3, result.stderr
    assert str(fifo) in result.stdout and "not a regular file" in result.stdout
    assert "named pipe" in result.stdout


@needs_fifo
def test_predict_on_a_named_pipe_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    result = run(["-m", "nn", "predict", str(fifo), "0.5,0.5"])
    assert result.returncode != 0
    assert "not a regular file" in result.stderr and str(fifo) in result.stderr


@needs_fifo
def test_a_file_swapped_for_a_pipe_after_the_check_is_refused_too(saved, tmp_path):
    """The race: os.stat saw a regular file, open() meets a pipe. Opening without
    blocking and checking the open descriptor catches it."""
    fifo = tmp_path / "swapped.json"
    os.mkfifo(fifo)
    lying_stat = (
        "import os\n"
        "real = os.stat\n"
        f"os.stat = lambda path, *a, **k: real({str(saved)!r})\n"
    )
    result = run(["-c", lying_stat + LOAD_AND_REPORT, str(fifo)])
    assert result.returncode == 3, result.stderr
    assert "not a regular file" in result.stdout and "named pipe" in result.stdout


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_device_is_refused_as_not_a_regular_file():
    with pytest.raises(ValueError, match="/dev/null: not a regular file .*character device"):
        nn.load("/dev/null")


# --- errors when saving, and atomicity ---------------------------------------------------

def test_unsaveable_models_raise_before_touching_the_file(saved):
    before = saved.read_bytes()
    with pytest.raises(ValueError, match="custom callable"):
        nn.MLP(2, [3, 1], activation=lambda v: v * v).save(saved)
    model = nn.MLP(2, [3, 1])
    model.parameters()[0].data = float("nan")
    with pytest.raises(ValueError, match="nan"):
        model.save(saved)
    with pytest.raises(ValueError, match="config"):
        nn.Module().save(saved)
    assert saved.read_bytes() == before


@pytest.mark.parametrize("where", ["json.dump", "os.replace", "os.fsync"])
def test_a_failed_save_leaves_the_previous_file_intact(saved, monkeypatch, where):
    before = saved.read_bytes()
    module, name = where.split(".")
    real = getattr({"json": json, "os": os}[module], name)

    def fail_midway(*args, **kwargs):
        if where == "json.dump":
            args[1].write('{"format": "chainrule.nn", "vers')  # a partial write, then a crash
        raise OSError("disk full")

    monkeypatch.setattr({"json": json, "os": os}[module], name, fail_midway)
    with pytest.raises(OSError, match="disk full"):
        nn.MLP(2, [3, 1]).save(saved)
    monkeypatch.setattr({"json": json, "os": os}[module], name, real)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]  # no temporary file left behind
    nn.load(saved)


def test_save_replaces_and_keeps_file_mode(saved):
    os.chmod(saved, 0o600)
    model = nn.MLP(2, [3, 1])
    model.save(saved)
    assert os.stat(saved).st_mode & 0o777 == 0o600
    assert hexes(nn.load(saved)) == hexes(model)
