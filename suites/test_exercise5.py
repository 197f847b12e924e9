"""Hidden suite for exercise 5: the training loop, by hand and with an optimizer."""
import pytest
import torch

from grader.engine.checks import Build, Call, randn


def _data(rng, n=12):
    x = randn(rng, n)
    return x, 2.5 * x - 1.0 + 0.1 * randn(rng, n)


def _training_loop(rng, n_epochs: int, learning_rate: float, stale: bool = False) -> Call:
    """With ``stale``, params already hold a gradient (as after an earlier
    backward()): a loop that clears it first ends where one on fresh params
    does; a loop that clears it only after its step does not."""
    x, y = _data(rng)
    params = torch.tensor([randn(rng).item(), randn(rng).item()], requires_grad=True)
    grads = (None, None, randn(rng, 2), None, None) if stale else ()

    def call(epochs: int, rate: float) -> Call:
        return Call("training_loop", (epochs, rate, params, x, y), after=True, grads=grads)

    # What the reference ends with one epoch off, or with every step taken twice.
    variants = (("epoch_too_many", {"got": n_epochs + 1, "expected": n_epochs}, call(n_epochs + 1, learning_rate)),
                ("epoch_too_few", {"got": n_epochs - 1, "expected": n_epochs}, call(n_epochs - 1, learning_rate)),
                ("step_twice", {}, call(n_epochs, 2 * learning_rate)))
    return Call("training_loop", (n_epochs, learning_rate, params, x, y), after=True, grads=grads,
                variants=variants if n_epochs >= 1 else ())


@pytest.mark.public
@pytest.mark.points(4)
def test_training_loop_follows_gradient_descent(check, rng):
    """training_loop ends at the same params as plain gradient descent, epoch for epoch, also from params
    that already hold a gradient."""
    check.same(*[_training_loop(rng, n_epochs, learning_rate, stale)
                 for n_epochs, learning_rate, stale in [(1, 0.1, False), (5, 0.05, False), (20, 0.02, False),
                                                        (3, 0.1, True)]])


@pytest.mark.points(2)
def test_training_loop_updates_params_in_place(check, rng):
    """training_loop updates the params tensor it was given, in place, and returns it."""
    check.same(_training_loop(rng, 1, 0.1), _training_loop(rng, 0, 0.1))


def _train(rng, optimizer: str, learning_rate: float, epochs: int, stale: bool = False,
           loss: str = "torch.nn.MSELoss") -> Call:
    x, y = _data(rng, 10)
    if loss != "torch.nn.MSELoss":  # a classifier's loss: targets are 0 or 1
        y = (y > y.median()).float()
    state = {"weight": randn(rng, 1, 1), "bias": randn(rng, 1)}
    grads = {"weight": randn(rng, 1, 1), "bias": randn(rng, 1)} if stale else None
    model = Build("torch.nn.Linear", (1, 1), state=state, grads=grads)
    return Call("train", (model, Build(loss),
                          Build(optimizer, kwargs={"lr": learning_rate}, params_of=0),
                          x.unsqueeze(1), y.unsqueeze(1), epochs), after=True)


@pytest.mark.public
@pytest.mark.points(3)
def test_train_with_an_optimizer(check, rng):
    """train returns each epoch's loss as a Python float and leaves the model trained, with SGD and Adam."""
    check.same(_train(rng, "torch.optim.SGD", 0.05, 8), _train(rng, "torch.optim.Adam", 0.1, 6),
               _train(rng, "torch.optim.SGD", 0.05, 3, stale=True))


@pytest.mark.public
@pytest.mark.points(1)
def test_train_uses_the_loss_it_is_given(check, rng):
    """train computes the loss with the loss_fn it is given, as loss_fn(y_hat, y): predictions first, targets
    second, which matters for a loss that is not symmetric, such as nn.BCEWithLogitsLoss."""
    call = _train(rng, "torch.optim.SGD", 0.5, 4, loss="torch.nn.BCEWithLogitsLoss")
    # What the reference answers with the loss of the other tests: a loss_fn ignored, named.
    with_mse = Call("train", (call.args[0], Build("torch.nn.MSELoss"), *call.args[2:]), after=True)
    ignored = (("argument_ignored", {"other": "nn.MSELoss()", "name": "loss_fn"}, with_mse),)
    check.same(Call("train", call.args, after=True, variants=ignored))
