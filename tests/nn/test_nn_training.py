"""End to end: small networks learn XOR with a hand-written SGD loop."""

import nn

XOR_DATA = [([0.0, 0.0], 0), ([0.0, 1.0], 1), ([1.0, 0.0], 1), ([1.0, 1.0], 0)]


def sgd(model, loss_fn, steps, lr):
    losses = []
    for _ in range(steps):
        loss = loss_fn()
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses


def test_mlp_learns_xor_with_cross_entropy():
    nn.manual_seed(0)
    model = nn.MLP(2, [8, 2], activation="tanh")

    def loss():
        return nn.cross_entropy([model(x) for x, _ in XOR_DATA], [y for _, y in XOR_DATA])

    losses = sgd(model, loss, steps=300, lr=0.5)
    assert losses[0] > 0.5 and losses[-1] < 0.05
    for x, y in XOR_DATA:
        scores = [s.data for s in model(x)]
        assert scores.index(max(scores)) == y


def test_relu_mlp_learns_xor_with_logistic_loss_and_l2():
    nn.manual_seed(1)
    model = nn.MLP(2, [6, 1], bias_init=0.1)

    def loss():
        logits = [model(x) for x, _ in XOR_DATA]
        data = nn.binary_cross_entropy_with_logits(logits, [y for _, y in XOR_DATA])
        return data + nn.l2(model, lam=1e-4, m=len(XOR_DATA), include_bias=False)

    losses = sgd(model, loss, steps=400, lr=0.3)
    assert losses[-1] < 0.1 < losses[0]
    assert [model(x).data > 0 for x, _ in XOR_DATA] == [False, True, True, False]


def test_one_sigmoid_unit_cannot_learn_xor():
    """No linear boundary separates XOR, so a single logistic unit stays near chance."""
    nn.manual_seed(2)
    unit = nn.Neuron(2, activation="sigmoid")

    def loss():
        return nn.binary_cross_entropy([unit(x) for x, _ in XOR_DATA], [y for _, y in XOR_DATA])

    losses = sgd(unit, loss, steps=300, lr=0.5)
    assert losses[-1] > 0.69  # log 2 is the best a linear model can do here
