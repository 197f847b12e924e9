"""Hidden suite for exercise 10: a training loop with a test pass after every epoch.

The model is the suite's own: it holds dropout (its output differs in
training mode) and a probe (``probe.ModeProbe``) that records, for each
forward call, the mode the model was in and whether autograd recorded a
graph, so the test pass is observed from outside the student's code.
"""
import pytest
import torch

from grader.engine.checks import Build, Call, randn

LOSSES = ("the training losses", "the test losses")
# One trainer call is graded in parts, each in a test of its own, so that points follow how much is right.
VALUES, MODES, INFERENCE, UPDATE = (frozenset({"value"}), frozenset({"modes"}), frozenset({"inference_mode"}),
                                    frozenset({"after"}))


def _model(rng, n_in, n_out, *, evaluating, grads=False):
    state = {"0.weight": 0.5 * randn(rng, 8, n_in), "0.bias": 0.1 * randn(rng, 8),
             "3.weight": 0.5 * randn(rng, n_out, 8), "3.bias": 0.1 * randn(rng, n_out)}
    layers = (Build("torch.nn.Linear", (n_in, 8)), Build("probe.ModeProbe"), Build("torch.nn.Dropout", (0.2,)),
              Build("torch.nn.Linear", (8, n_out)))
    stale = {name: randn(rng, *value.shape) for name, value in state.items()} if grads else None
    if evaluating:  # as the test pass of an earlier epoch left it
        return Build("probe.eval_mode", (Build("torch.nn.Sequential", layers),), state=state, grads=stale)
    return Build("torch.nn.Sequential", layers, state=state, grads=stale)


def _line(rng, n):
    x = randn(rng, n, 1)
    return x, 0.7 * x + 0.3 + 0.05 * randn(rng, n, 1)


def _iris(rng, n):
    target = torch.randint(0, 3, (n,), generator=rng)
    centres = torch.tensor([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    return centres[target] + 0.3 * randn(rng, n, 4), target


def _trainer(rng, loss, optimizer, lr, epochs, judged, *, classes=False, evaluating=True, grads=False):
    data = _iris if classes else _line
    X_train, y_train = data(rng, 24)
    X_test, y_test = data(rng, 9)
    model = _model(rng, 4 if classes else 1, 3 if classes else 1, evaluating=evaluating, grads=grads)
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=rng))

    def call(test_data, variants=()):
        return Call("trainer", (model, Build(loss), Build(optimizer, kwargs={"lr": lr}, params_of=0),
                                X_train, y_train, *test_data, epochs),
                    after=True, seed=seed, parts=LOSSES, judged=judged, variants=variants)

    # The test pass measured on the training data: the reference given the training data as its test data.
    on_train = ("data_in_place_of", {"used": "the training data (X_train, y_train)",
                                     "instead": "the test data (X_test, y_test)"}, call((X_train, y_train)))
    return call((X_test, y_test), variants=(on_train,) if "value" in judged else ())


@pytest.mark.public
@pytest.mark.points(3)
def test_trainer_losses(check, rng):
    """trainer returns (train_losses, test_losses): each epoch's training loss, before its step, and its test
    loss, as Python floats (nn.L1Loss, SGD)."""
    check.same(_trainer(rng, "torch.nn.L1Loss", "torch.optim.SGD", 0.05, 5, VALUES))


@pytest.mark.public
@pytest.mark.points(2)
def test_trainer_modes(check, rng):
    """trainer runs each epoch's training pass in training mode, recording a graph, then its test pass in
    evaluation mode, recording none."""
    check.same(_trainer(rng, "torch.nn.L1Loss", "torch.optim.SGD", 0.05, 5, MODES))


@pytest.mark.points(1)
def test_trainer_tests_under_inference_mode(check, rng):
    """trainer runs its test pass under torch.inference_mode(), as the exercise asks."""
    check.same(_trainer(rng, "torch.nn.L1Loss", "torch.optim.SGD", 0.05, 3, INFERENCE))


@pytest.mark.public
@pytest.mark.points(2)
def test_trainer_classifier(check, rng):
    """trainer trains a classifier with nn.CrossEntropyLoss and Adam: the same losses, epoch for epoch."""
    check.same(_trainer(rng, "torch.nn.CrossEntropyLoss", "torch.optim.Adam", 0.05, 3, VALUES, classes=True))


@pytest.mark.points(2)
def test_trainer_update(check, rng):
    """trainer leaves the model trained as the optimizer's steps do, clearing the gradients before each
    backward(), also for a model that holds gradients already (nn.MSELoss)."""
    check.same(_trainer(rng, "torch.nn.MSELoss", "torch.optim.SGD", 0.05, 4, UPDATE, evaluating=False, grads=True),
               _trainer(rng, "torch.nn.L1Loss", "torch.optim.SGD", 0.1, 1, UPDATE, grads=True))
