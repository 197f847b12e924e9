"""Hidden suite for exercise 7: a quadratic, its loss, and one step of gradient descent by hand."""
import pytest
import torch

from grader.engine.checks import Call, randn


def _params(rng: torch.Generator) -> torch.Tensor:
    return randn(rng, 3, requires_grad=True)


@pytest.mark.public
@pytest.mark.points(2)
def test_f(check, rng):
    """f(t, params) is a * t**2 + b * t + c for [a, b, c] = params, with its gradient w.r.t. params."""
    check.same(*[Call("f", (randn(rng, *shape), _params(rng)), cotangent=randn(rng, *shape))
                 for shape in [(8,), (3, 4)]])


@pytest.mark.public
@pytest.mark.points(2)
def test_mse(check, rng):
    """mse(preds, targets) is the mean squared error, with its gradient w.r.t. preds."""
    check.same(*[Call("mse", (randn(rng, *shape, requires_grad=True), randn(rng, *shape)), cotangent=randn(rng))
                 for shape in [(6,), (2, 5)]])


def _step(rng: torch.Generator, lr: float, *shape: int, epochs: int = 0) -> Call:
    """One step; with ``epochs``, that many steps on the same params, each answering its loss: the report's
    curve of the student's losses against the reference's."""
    t = randn(rng, *shape)
    y = 1.5 * t ** 2 - 0.5 * t + 2.0 + 0.1 * randn(rng, *shape)
    return Call("apply_step", (_params(rng), t, y, lr), after=True, after_grads=True, epochs=epochs)


@pytest.mark.public
@pytest.mark.points(4)
def test_apply_step(check, rng):
    """apply_step returns the loss before the step as a Python float, moves params one step of gradient descent
    in place, and leaves params.grad cleared for the next step."""
    check.same(_step(rng, 0.1, 10), _step(rng, 0.02, 16), _step(rng, 0.05, 12, epochs=12))


@pytest.mark.points(2)
def test_apply_step_on_a_table(check, rng):
    """apply_step works on 2-D data and any learning rate, leaving params a leaf that requires grad."""
    check.same(_step(rng, 0.05, 4, 5), _step(rng, 0.0, 6), _step(rng, 0.05, 3, 4, epochs=10))
