"""Hidden suite for exercise 5: the training loop, by hand and with an optimizer."""
import pytest
import torch

from grader.engine.checks import Build, Call, randn


def _data(rng, n=12):
    x = randn(rng, n)
    return x, 2.5 * x - 1.0 + 0.1 * randn(rng, n)


def _training_loop(rng, n_epochs: int, learning_rate: float) -> Call:
    x, y = _data(rng)
    params = torch.tensor([randn(rng).item(), randn(rng).item()], requires_grad=True)
    return Call("training_loop", (n_epochs, learning_rate, params, x, y), after=True)


@pytest.mark.public
@pytest.mark.points(4)
def test_training_loop_follows_gradient_descent(check, rng):
    """training_loop ends at the same params as plain gradient descent, epoch for epoch."""
    check.same(*[_training_loop(rng, n_epochs, learning_rate)
                 for n_epochs, learning_rate in [(1, 0.1), (5, 0.05), (20, 0.02)]])


@pytest.mark.points(2)
def test_training_loop_updates_params_in_place(check, rng):
    """training_loop updates the params tensor it was given, in place, and returns it."""
    check.same(_training_loop(rng, 1, 0.1), _training_loop(rng, 0, 0.1))


def _train(rng, optimizer: str, learning_rate: float, epochs: int) -> Call:
    x, y = _data(rng, 10)
    state = {"weight": randn(rng, 1, 1), "bias": randn(rng, 1)}
    model = Build("torch.nn.Linear", (1, 1), state=state)
    return Call("train", (model, Build("torch.nn.MSELoss"),
                          Build(optimizer, kwargs={"lr": learning_rate}, params_of=0),
                          x.unsqueeze(1), y.unsqueeze(1), epochs), after=True)


@pytest.mark.public
@pytest.mark.points(4)
def test_train_with_an_optimizer(check, rng):
    """train returns each epoch's loss as a Python float and leaves the model trained, with SGD and Adam."""
    check.same(_train(rng, "torch.optim.SGD", 0.05, 8), _train(rng, "torch.optim.Adam", 0.1, 6))
