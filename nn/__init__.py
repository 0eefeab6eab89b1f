"""chainrule's nn: neural networks built only on autograd's public API.

    import nn
    model = nn.MLP(2, [16, 16, 1])          # relu hidden layers, linear output
    loss = nn.mse_loss([model(x) for x in xs], ys)
    model.zero_grad(); loss.backward()
"""

# First: a foreign package named autograd (HIPS) must fail here, with the fix, not
# later as "cannot import name 'Value'".
from . import _engine_check  # noqa: F401

# isort: split
from autograd import __version__ as __version__  # one version for the distribution

from . import datasets, init
from .activations import (
    ACTIVATIONS,
    PReLU,
    RReLU,
    absolute,
    elu,
    get_activation,
    hardtanh,
    leaky_relu,
    linear,
    relu,
    sigmoid,
    sign,
    softplus,
    step,
    tanh,
)
from .data import batches, num_batches, train_val_split
from .datasets import (
    DATASETS,
    get_dataset,
    load_digits,
    make_blobs,
    make_circles,
    make_moons,
    make_sine,
    make_spirals,
)
from .init import (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    KaimingNormal,
    KaimingUniform,
    Normal,
    Uniform,
    XavierNormal,
    XavierUniform,
    Zeros,
    manual_seed,
)
from .interop import from_torch, to_onnx, to_torch
from .layers import MLP, RBF, Layer, Maxout, Neuron, Perceptron, Sequential
from .logic import (
    AND,
    NOT,
    OR,
    XOR,
    and_gate,
    not_gate,
    or_gate,
    xor_network,
    xor_relu_network,
)
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    log_softmax,
    mse_loss,
    nll_loss,
    softmax,
    sse_loss,
)
from .metrics import accuracy, confusion_matrix
from .module import Module
from .optim import SGD, Adam, AdamW, Optimizer
from .perceptron import PerceptronRun, perceptron_learning
from .regularizers import l1, l2, weight_elimination
from .schedules import ConstantLR, CosineAnnealing, LinearDecay, LRSchedule, StepLR
from .serialization import load, save
from .tasks import LOSSES, Task, get_task
from .training import OPTIMIZERS, SCHEDULES, History, evaluate, fit, predict

__all__ = [
    # modules and layers
    "Module", "Neuron", "Layer", "MLP", "Sequential", "Perceptron", "Maxout", "RBF",
    "PReLU", "RReLU",
    # perceptron logic
    "AND", "OR", "NOT", "XOR", "and_gate", "or_gate", "not_gate",
    "xor_network", "xor_relu_network", "perceptron_learning", "PerceptronRun",
    # activations
    "ACTIVATIONS", "get_activation", "linear", "sigmoid", "tanh", "relu", "leaky_relu",
    "elu", "softplus", "hardtanh", "absolute", "sign", "step",
    # initialisers
    "init", "manual_seed", "Uniform", "Normal", "XavierUniform", "XavierNormal",
    "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "KaimingUniform",
    "KaimingNormal", "Zeros", "Constant",
    # losses
    "mse_loss", "sse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss", "hinge_loss", "softmax", "log_softmax",
    # regularisers
    "l1", "l2", "weight_elimination",
    # saving
    "save", "load",
    # PyTorch and ONNX (the optional interop extra)
    "to_torch", "from_torch", "to_onnx",
    # optimisers and schedules
    "Optimizer", "SGD", "Adam", "AdamW",
    "LRSchedule", "ConstantLR", "StepLR", "LinearDecay", "CosineAnnealing",
    # data
    "datasets", "DATASETS", "get_dataset", "load_digits", "make_moons", "make_circles",
    "make_spirals", "make_blobs", "make_sine", "train_val_split", "batches", "num_batches",
    # training and metrics
    "fit", "History", "predict", "evaluate", "LOSSES", "OPTIMIZERS", "SCHEDULES",
    "Task", "get_task", "accuracy", "confusion_matrix",
]
