"""PyTorch and ONNX: take a trained model to the tensor world, or bring a small one back.

    torch_model = nn.to_torch(model)      # a torch.nn.Sequential in float64
    model = nn.from_torch(torch_model)    # an nn.MLP (or nn.Sequential)
    nn.to_onnx(model, "model.onnx")       # Gemm and activation nodes

All three go through one small description of a feed-forward network: a list of
steps, each an affine map (a Linear: one row of weights and a bias per unit) or
an element-wise activation with its arguments. ``_describe`` reads the steps
from an nn model and ``_describe_torch`` from a torch module; ``to_torch``,
``to_onnx`` and ``from_torch`` build from them. The step at index i is module i
of the ``torch.nn.Sequential`` that ``to_torch`` returns, so the ONNX initialisers
carry that module's ``state_dict`` names ("0.weight", "0.bias", ...).

torch and onnx are optional (``pip install "chainrule[interop]"``): they are
imported when one of these functions is called, never when ``nn`` is imported.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Any

from .activations import PReLU, RReLU, activation_config
from .init import Constant
from .layers import MLP, Layer, Neuron, Perceptron, Sequential
from .module import Module
from .serialization import write_bytes_atomically

INSTALL_HINT = 'pip install "chainrule[interop]"'

# Each element-wise activation that has a PyTorch and an ONNX counterpart, with
# its arguments and their defaults (nn's defaults, which are also PyTorch's).
# "linear" is the identity: it becomes no module and no node at all.
_ARGS: dict[str, dict[str, float]] = {
    "linear": {},
    "relu": {},
    "tanh": {},
    "sigmoid": {},
    "leaky_relu": {"negative_slope": 0.01},
    "elu": {"alpha": 1.0},
    "softplus": {},
    "hardtanh": {"min_val": -1.0, "max_val": 1.0},
    "prelu": {},
    "rrelu": {"lower": 1.0 / 8.0, "upper": 1.0 / 3.0},
}
SUPPORTED_ACTIVATIONS: tuple[str, ...] = tuple(_ARGS)

# The torch modules from_torch reads (a subclass counts if it keeps the forward).
SUPPORTED_TORCH_MODULES: tuple[str, ...] = (
    "Sequential", "Linear", "Identity", "ReLU", "Tanh", "Sigmoid", "LeakyReLU", "ELU",
    "Softplus", "Hardtanh", "ReLU6", "PReLU", "RReLU",
)

# torch's Softplus returns x itself above ``threshold``. Past 34, log(1 + e^x)
# rounds to x in float64, so with this threshold torch computes nn's softplus
# to the last bit. (It stays below 88, where float32's exp would overflow if the
# exported model is later converted with .float().)
TORCH_SOFTPLUS_THRESHOLD = 40.0
# from_torch accepts a Softplus whose switch to x comes no earlier than torch's
# default: above it the two differ by less than e^-threshold.
MIN_SOFTPLUS_THRESHOLD = 20.0

ONNX_OPSET = 17
ONNX_IR_VERSION = 8  # the IR that goes with opset 17, so older runtimes load the file
_ONNX_DTYPES = ("float32", "float64")


# --- the description: a list of steps ---------------------------------------------

@dataclass
class _Affine:
    """x -> W x + b on a batch: ``weight`` holds one row of nin weights per output unit."""

    weight: list[list[float]]
    bias: list[float] | None
    where: str

    @property
    def nin(self) -> int:
        return len(self.weight[0])

    @property
    def nout(self) -> int:
        return len(self.weight)


@dataclass
class _Act:
    """An element-wise activation by nn's name, with every argument spelled out.

    "prelu" carries its learned slopes: one shared by all units, or one per unit.
    """

    name: str
    args: dict[str, float]
    where: str
    slopes: list[float] | None = field(default=None)


_Step = _Affine | _Act


def _require(module: str, who: str) -> Any:
    """Import an optional dependency, or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"{who} needs the optional package {module!r}, which could not be imported "
            f"({err}); install the interop extra: {INSTALL_HINT}"
        ) from err


def _supported_names() -> str:
    return ", ".join(SUPPORTED_ACTIVATIONS)


# --- reading an nn model ----------------------------------------------------------

_NN_SUPPORTED = "MLP, Sequential, Layer, Neuron, Perceptron, PReLU, RReLU"


def _describe(model: Any, who: str) -> list[_Step]:
    """The steps of an nn model, checked: widths chain, at least one affine map."""
    if not isinstance(model, Module):
        raise TypeError(
            f"{who}: expected an nn model ({_NN_SUPPORTED}), got {type(model).__name__}"
        )
    steps: list[_Step] = []
    _read_nn(model, "", steps, who)
    if not any(isinstance(s, _Affine) for s in steps):
        raise ValueError(
            f"{who}: {type(model).__name__} has no weighted layer (Layer, Neuron, MLP, ...) "
            "to export"
        )
    _check_widths(steps, who)
    return steps


def _kind(module: Module, kinds: tuple[type, ...]) -> type | None:
    """The supported class ``module`` is, if its forward is that class's own."""
    for cls in type(module).__mro__:
        if cls in kinds:
            return cls if type(module).forward is cls.forward else None
    return None


def _read_nn(m: Module, where: str, steps: list[_Step], who: str) -> None:
    kind = _kind(m, (MLP, Sequential, Layer, Neuron, Perceptron, PReLU, RReLU))
    at = where or type(m).__name__
    if kind is MLP or kind is Sequential:
        for i, sub in enumerate(m.layers):
            _read_nn(sub, f"{where}.layers.{i}" if where else f"layers.{i}", steps, who)
    elif kind is Layer:
        _read_units(m.neurons, at, steps, who)
    elif kind is Neuron:
        _read_units([m], at, steps, who)
    elif kind is Perceptron:
        steps.append(_Affine([[w.data for w in m.w]], [m.b.data], at))
        _add(steps, _activation_of([(m._activation, m._act)], at, who))
    elif kind is PReLU:
        steps.append(_Act("prelu", {}, at, [s.data for s in m.slope]))
    elif kind is RReLU:
        steps.append(_Act("rrelu", {"lower": m.lower, "upper": m.upper}, at))
    else:
        raise ValueError(
            f"{who}: cannot export {type(m).__name__} (at {at}): it has no PyTorch "
            f"counterpart here; supported modules: {_NN_SUPPORTED}, with activations "
            f"{_supported_names()}"
        )


def _read_units(neurons: list[Neuron], where: str, steps: list[_Step], who: str) -> None:
    """One affine map for a layer's units, then their (common) activation."""
    with_bias = {n.b is not None for n in neurons}
    if len(with_bias) > 1:
        raise ValueError(f"{who}: the units of {where} mix bias and no bias")
    weight = [[w.data for w in n.w] for n in neurons]
    bias = [n.b.data for n in neurons] if with_bias == {True} else None
    steps.append(_Affine(weight, bias, where))
    _add(steps, _activation_of([(n._activation, n._act) for n in neurons], where, who))


def _add(steps: list[_Step], act: _Act) -> None:
    if act.name != "linear":
        steps.append(act)


def _activation_of(units: list[tuple[Any, Any]], where: str, who: str) -> _Act:
    """The one activation that units (spec, callable) pairs share, as an _Act."""
    found: list[tuple[str, dict[str, float]]] = []
    slopes: list[float] = []
    for spec, fn in units:
        try:
            conf = activation_config(spec)
        except ValueError:
            raise ValueError(
                f"{who}: {where} uses the custom activation {spec!r}, which has no PyTorch "
                f"or ONNX counterpart; supported activations: {_supported_names()}"
            ) from None
        name, given = (conf, {}) if isinstance(conf, str) else (conf["name"], conf)
        if name not in _ARGS:
            raise ValueError(
                f"{who}: {where} uses the activation {name!r}, which has no PyTorch or ONNX "
                f"counterpart; supported activations: {_supported_names()}"
            )
        if name == "prelu":
            if len(fn.slope) != 1:
                raise ValueError(
                    f"{who}: {where} has a PReLU with {len(fn.slope)} slopes on one unit"
                )
            slopes.append(fn.slope[0].data)
            args: dict[str, float] = {}
        elif name == "rrelu":
            args = {"lower": fn.lower, "upper": fn.upper}
        else:
            args = {k: float(given.get(k, default)) for k, default in _ARGS[name].items()}
        found.append((name, args))
    if any(f != found[0] for f in found):
        raise ValueError(f"{who}: the units of {where} use different activations: {found}")
    name, args = found[0]
    return _Act(name, args, where, slopes if name == "prelu" else None)


def _check_widths(steps: list[_Step], who: str) -> None:
    """Each affine map must read as many values as the step before it gives."""
    width: int | None = None
    for s in steps:
        if isinstance(s, _Affine):
            if width is not None and s.nin != width:
                raise ValueError(
                    f"{who}: {s.where} takes {s.nin} inputs but the layer before it gives {width}"
                )
            width = s.nout
        elif s.slopes is not None and len(s.slopes) > 1:
            if width is not None and len(s.slopes) != width:
                raise ValueError(
                    f"{who}: {s.where} has {len(s.slopes)} PReLU slopes for {width} values"
                )
            width = len(s.slopes)


def _widths(steps: list[_Step]) -> tuple[int, int]:
    """(inputs, outputs) of a checked list of steps: the first step that fixes the
    width (an affine map, or a PReLU with a slope per value) gives the inputs."""
    nin: int | None = None
    width = 0
    for s in steps:
        if isinstance(s, _Affine):
            nin = s.nin if nin is None else nin
            width = s.nout
        elif s.slopes is not None and len(s.slopes) > 1:
            nin = len(s.slopes) if nin is None else nin
            width = len(s.slopes)
    assert nin is not None  # _describe made sure there is an affine map
    return nin, width


# --- to PyTorch -------------------------------------------------------------------

def to_torch(model: Module) -> Any:
    """A ``torch.nn.Sequential`` of ``Linear`` and activation modules computing ``model``.

    Parameters are float64 copies of ours (a new module, not a view), so on a float64
    (N, nin) batch the outputs and the gradients match ours to rounding. The result
    takes a batch and returns (N, nout) even where ``model`` returns one Value; it is
    in training mode exactly when ``model`` is (only RReLU tells the modes apart).
    Building it draws nothing from torch's random generator.
    """
    torch = _require("torch", "nn.to_torch")
    steps = _describe(model, "nn.to_torch")
    modules = [_torch_module(torch, s) for s in steps]
    out = torch.nn.Sequential(*modules)
    out.train(model.training)
    return out


def _torch_module(torch: Any, step: _Step) -> Any:
    tnn = torch.nn
    f64 = torch.float64
    if isinstance(step, _Affine):
        has_bias = step.bias is not None
        # skip_init: no random draw for weights that are overwritten at once
        linear = tnn.utils.skip_init(tnn.Linear, step.nin, step.nout, bias=has_bias, dtype=f64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(step.weight, dtype=f64))
            if has_bias:
                linear.bias.copy_(torch.tensor(step.bias, dtype=f64))
        return linear
    a = step.args
    if step.name == "prelu":
        slopes = step.slopes or []
        prelu = tnn.PReLU(num_parameters=len(slopes), dtype=f64)
        with torch.no_grad():
            prelu.weight.copy_(torch.tensor(slopes, dtype=f64))
        return prelu
    builders = {
        "relu": lambda: tnn.ReLU(),
        "tanh": lambda: tnn.Tanh(),
        "sigmoid": lambda: tnn.Sigmoid(),
        "leaky_relu": lambda: tnn.LeakyReLU(a["negative_slope"]),
        "elu": lambda: tnn.ELU(a["alpha"]),
        "softplus": lambda: tnn.Softplus(beta=1.0, threshold=TORCH_SOFTPLUS_THRESHOLD),
        "hardtanh": lambda: tnn.Hardtanh(a["min_val"], a["max_val"]),
        "rrelu": lambda: tnn.RReLU(a["lower"], a["upper"]),
    }
    return builders[step.name]()


# --- from PyTorch -----------------------------------------------------------------

def from_torch(module: Any) -> MLP | Sequential:
    """The nn model of a ``torch.nn.Sequential`` of ``Linear`` and activation modules
    (or of a bare ``Linear``), with the same weights, so the same function.

    Returns an ``nn.MLP`` when the network has that shape (every Linear followed by
    at most one activation, the same one on every hidden layer, all with or all
    without bias), otherwise an ``nn.Sequential`` of ``nn.Layer`` (and ``nn.PReLU``)
    modules. A ``PReLU`` with one slope per unit becomes the units' own "prelu"; one
    with a shared slope stays a separate ``nn.PReLU``, so the parameters correspond
    one to one and so do their gradients. Weights are read as float64. The model is
    in training mode exactly when ``module`` is.

    ValueError names any module that cannot be represented and lists the supported
    ones; an activation before the first Linear, or two in a row, cannot (except
    PReLU and RReLU, which nn has as modules of their own).
    """
    torch = _require("torch", "nn.from_torch")
    if not isinstance(module, torch.nn.Module):
        raise TypeError(
            f"nn.from_torch: expected a torch.nn.Sequential or torch.nn.Linear, "
            f"got {type(module).__name__}"
        )
    steps = _describe_torch(torch, module)
    if not any(isinstance(s, _Affine) for s in steps):
        raise ValueError("nn.from_torch: the module has no Linear layer, so nothing to build")
    _check_widths(steps, "nn.from_torch")
    model = _build(steps)
    model.train(module.training)
    return model


def _describe_torch(torch: Any, module: Any) -> list[_Step]:
    tnn = torch.nn
    kinds = {getattr(tnn, name): name for name in SUPPORTED_TORCH_MODULES}
    steps: list[_Step] = []

    def read(m: Any, where: str) -> None:
        kind = None
        for cls in type(m).__mro__:
            if cls in kinds:
                kind = kinds[cls] if type(m).forward is cls.forward else None
                break
        label = f"{type(m).__name__} (at {where or 'the top'})"
        if kind is None:
            raise ValueError(
                f"nn.from_torch: unsupported module {label}; supported: "
                f"{', '.join(SUPPORTED_TORCH_MODULES)} (a subclass only if it keeps the "
                "forward of its base class)"
            )
        if kind == "Sequential":
            for name, sub in m.named_children():
                read(sub, f"{where}.{name}" if where else name)
        elif kind == "Linear":
            weight = _floats(torch, m.weight, label)
            bias = None if m.bias is None else _floats(torch, m.bias, label)
            steps.append(_Affine(weight, bias, label))
        elif kind == "Identity":
            pass
        elif kind == "PReLU":
            steps.append(_Act("prelu", {}, label, _floats(torch, m.weight, label)))
        else:
            steps.append(_Act(*_torch_activation(kind, m, label), label))

    read(module, "")
    return steps


def _torch_activation(kind: str, m: Any, label: str) -> tuple[str, dict[str, float]]:
    """(nn name, arguments) of a torch activation module."""
    if kind in ("ReLU", "Tanh", "Sigmoid"):
        return kind.lower(), {}
    if kind == "LeakyReLU":
        return "leaky_relu", {"negative_slope": float(m.negative_slope)}
    if kind == "ELU":
        return "elu", {"alpha": float(m.alpha)}
    if kind in ("Hardtanh", "ReLU6"):
        return "hardtanh", {"min_val": float(m.min_val), "max_val": float(m.max_val)}
    if kind == "RReLU":
        return "rrelu", {"lower": float(m.lower), "upper": float(m.upper)}
    # Softplus
    if float(m.beta) != 1.0:
        raise ValueError(
            f"nn.from_torch: {label} has beta={m.beta}; nn's softplus is log(1 + e^x), "
            "beta = 1 only"
        )
    if not float(m.threshold) >= MIN_SOFTPLUS_THRESHOLD:
        raise ValueError(
            f"nn.from_torch: {label} has threshold={m.threshold}: above it torch returns x "
            f"instead of log(1 + e^x), which nn cannot represent; use a threshold of at "
            f"least {MIN_SOFTPLUS_THRESHOLD:g} (torch's default), where the two differ by "
            "less than e^-threshold"
        )
    return "softplus", {}


def _floats(torch: Any, tensor: Any, label: str) -> Any:
    """A parameter as nested lists of Python floats (float64)."""
    if isinstance(tensor, torch.nn.parameter.UninitializedParameter) or tensor.is_meta:
        raise ValueError(f"nn.from_torch: {label} holds no weights yet (lazy or meta tensor)")
    if tensor.is_complex():
        raise ValueError(f"nn.from_torch: {label} has complex weights")
    return tensor.detach().to(device="cpu", dtype=torch.float64).tolist()


def _build(steps: list[_Step]) -> MLP | Sequential:
    """nn modules for checked steps: an MLP if the shape allows, else a Sequential."""
    groups: list[tuple[_Affine | None, list[_Act]]] = []
    for s in steps:
        if isinstance(s, _Affine):
            groups.append((s, []))
        elif groups:
            groups[-1][1].append(s)
        else:
            groups.append((None, [s]))

    modules: list[Module] = []
    layers: list[tuple[Layer, _Act | None]] = []  # each layer with the activation it took
    for affine, acts in groups:
        rest = list(acts)
        if affine is not None:
            act = rest.pop(0) if rest and _folds(rest[0], affine.nout) else None
            layer = _layer(affine, act)
            modules.append(layer)
            layers.append((layer, act))
        for extra in rest:
            modules.append(_standalone(extra))

    if len(modules) == len(layers) and _mlp_shape(layers):
        first = layers[0][0]
        hidden = layers[0][1] if len(layers) > 1 else None
        mlp = MLP(
            first.nin,
            [layer.nout for layer, _ in layers],
            activation=_spec(hidden),
            output_activation=_spec(layers[-1][1]),
            bias=first._bias,
            init=Constant(0.0),
        )
        for target, (layer, _) in zip(mlp.layers, layers, strict=True):
            target.load_state_dict(layer.state_dict())
        return mlp
    return Sequential(*modules)


def _folds(act: _Act, nout: int) -> bool:
    """Whether ``act`` can be the activation of a layer of ``nout`` units."""
    if act.name != "prelu":
        return True
    return len(act.slopes or ()) == nout  # one slope per unit (a shared one stays apart)


def _spec(act: _Act | None) -> str | dict[str, Any]:
    if act is None:
        return "linear"
    return {"name": act.name, **act.args} if act.args else act.name


def _layer(affine: _Affine, act: _Act | None) -> Layer:
    layer = Layer(
        affine.nin, affine.nout, _spec(act), affine.bias is not None, init=Constant(0.0)
    )
    for j, neuron in enumerate(layer.neurons):
        for w, value in zip(neuron.w, affine.weight[j], strict=True):
            w.data = value
        if affine.bias is not None:
            neuron.b.data = affine.bias[j]
        if act is not None and act.name == "prelu":
            neuron.act.slope[0].data = act.slopes[j]
    return layer


def _standalone(act: _Act) -> Module:
    """A PReLU or RReLU that is not one layer's own activation; ValueError for the rest."""
    if act.name == "prelu":
        slopes = act.slopes or []
        prelu = PReLU(len(slopes))
        for s, value in zip(prelu.slope, slopes, strict=True):
            s.data = value
        return prelu
    if act.name == "rrelu":
        return RReLU(act.args["lower"], act.args["upper"])
    raise ValueError(
        f"nn.from_torch: cannot represent {act.where}: an nn layer applies one activation "
        "right after its Linear, so an activation before the first Linear or a second one "
        "in a row has no place (only PReLU and RReLU can stand alone)"
    )


def _mlp_shape(layers: list[tuple[Layer, _Act | None]]) -> bool:
    """Whether the layers make an nn.MLP: one bias setting and one hidden activation.

    (A shared PReLU slope is a module of its own, so such a network never gets here.)"""
    if len({layer._bias for layer, _ in layers}) > 1:
        return False
    hidden = [_spec(act) for _, act in layers[:-1]]
    return all(h == hidden[0] for h in hidden)


# --- to ONNX ----------------------------------------------------------------------

def to_onnx(model: Module, path: str | os.PathLike, *, dtype: str = "float32") -> Any:
    """Write ``model`` to ``path`` as an ONNX graph of Gemm and activation nodes.

    The input is named "input", shape (batch, nin) with a dynamic batch size; the
    output "output", shape (batch, nout). ``dtype`` is "float32" (what most ONNX
    tools expect) or "float64" (our numbers to rounding). ONNX attributes are
    float32 and onnxruntime has no float64 Elu or Softplus kernel, so in float64 a
    leaky slope goes in as a PRelu tensor and Elu and Softplus are written as the
    few elementary nodes they are made of. RReLU exports its eval-mode slope (the
    mean of its bounds) as a leaky ReLU. Initialisers take the ``state_dict``
    names of ``to_torch``'s module. The file is written to a temporary file and
    renamed over ``path``, so a failure leaves any previous file intact. Returns
    the ``onnx.ModelProto``.
    """
    if dtype not in _ONNX_DTYPES:
        raise ValueError(f"nn.to_onnx: dtype must be 'float32' or 'float64', got {dtype!r}")
    onnx = _require("onnx", "nn.to_onnx")
    path = os.fspath(path)
    steps = _describe(model, "nn.to_onnx")
    proto = _onnx_model(onnx, steps, dtype)
    onnx.checker.check_model(proto)
    write_bytes_atomically(path, proto.SerializeToString())
    return proto


class _OnnxGraph:
    """Collects nodes and initialisers; each node's output gets a fresh name."""

    def __init__(self, onnx: Any, dtype: str) -> None:
        self.helper = onnx.helper
        self.elem = onnx.TensorProto.DOUBLE if dtype == "float64" else onnx.TensorProto.FLOAT
        self.double = dtype == "float64"
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def const(self, name: str, values: list[float], dims: list[int]) -> str:
        self.initializers.append(self.helper.make_tensor(name, self.elem, dims, values))
        return name

    def node(self, op: str, inputs: list[str], prefix: str, **attrs: Any) -> str:
        out = f"{prefix}/{op}_{len(self.nodes)}"
        self.nodes.append(self.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def _onnx_model(onnx: Any, steps: list[_Step], dtype: str) -> Any:
    from . import __version__

    g = _OnnxGraph(onnx, dtype)
    x = "input"
    for i, step in enumerate(steps):
        x = _onnx_step(g, step, x, str(i))
    g.nodes[-1].output[0] = "output"  # the last node writes the graph's output
    nin, nout = _widths(steps)
    helper = onnx.helper
    graph = helper.make_graph(
        g.nodes,
        "chainrule",
        [helper.make_tensor_value_info("input", g.elem, ["batch", nin])],
        [helper.make_tensor_value_info("output", g.elem, ["batch", nout])],
        initializer=g.initializers,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
        producer_name="chainrule",
        producer_version=__version__,
    )
    proto.ir_version = ONNX_IR_VERSION
    return proto


def _onnx_step(g: _OnnxGraph, step: _Step, x: str, i: str) -> str:
    """Append the nodes of one step reading tensor ``x``; return the output tensor's name."""
    if isinstance(step, _Affine):
        flat = [w for row in step.weight for w in row]
        inputs = [x, g.const(f"{i}.weight", flat, [step.nout, step.nin])]
        if step.bias is not None:
            inputs.append(g.const(f"{i}.bias", step.bias, [step.nout]))
        return g.node("Gemm", inputs, i, transB=1)
    a, name = step.args, step.name
    if name in ("relu", "tanh", "sigmoid"):
        return g.node({"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}[name], [x], i)
    if name in ("leaky_relu", "rrelu"):
        slope = a["negative_slope"] if name == "leaky_relu" else (a["lower"] + a["upper"]) / 2.0
        if not g.double:
            return g.node("LeakyRelu", [x], i, alpha=slope)
        # An attribute is a float32: in float64 the slope goes in as a PRelu tensor.
        return g.node("PRelu", [x, g.const(f"{i}.slope", [slope], [1])], i)
    if name == "hardtanh":
        lo = g.const(f"{i}.min_val", [a["min_val"]], [])
        hi = g.const(f"{i}.max_val", [a["max_val"]], [])
        return g.node("Clip", [x, lo, hi], i)
    if name == "prelu":
        slopes = step.slopes or []
        return g.node("PRelu", [x, g.const(f"{i}.weight", slopes, [len(slopes)])], i)
    if name == "elu":
        if not g.double:
            return g.node("Elu", [x], i, alpha=a["alpha"])
        # x > 0 ? x : alpha (e^min(x, 0) - 1); min keeps e^x finite on the unused side
        zero = g.const(f"{i}.zero", [0.0], [])
        one = g.const(f"{i}.one", [1.0], [])
        alpha = g.const(f"{i}.alpha", [a["alpha"]], [])
        em1 = g.node("Sub", [g.node("Exp", [g.node("Min", [x, zero], i)], i), one], i)
        negative = g.node("Mul", [em1, alpha], i)
        return g.node("Where", [g.node("Greater", [x, zero], i), x, negative], i)
    if name == "softplus":
        if not g.double:
            return g.node("Softplus", [x], i)
        # max(x, 0) + log(1 + e^-|x|): finite for every finite x, like nn's own
        one = g.const(f"{i}.one", [1.0], [])
        tail = g.node("Exp", [g.node("Neg", [g.node("Abs", [x], i)], i)], i)
        log = g.node("Log", [g.node("Add", [tail, one], i)], i)
        return g.node("Add", [g.node("Relu", [x], i), log], i)
    raise AssertionError(f"no ONNX form for {name!r}")  # pragma: no cover - _ARGS lists all


__all__ = ["to_torch", "from_torch", "to_onnx", "SUPPORTED_ACTIVATIONS", "SUPPORTED_TORCH_MODULES"]
