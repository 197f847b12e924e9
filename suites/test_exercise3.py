"""Hidden suite for exercise 3: a model whose parameters are registered nn.Parameters."""
import pytest

from grader.engine.checks import Build, Call, Inspect, randn


def _state(rng):
    return {name: randn(rng, 1) for name in ("weight1", "weight2", "bias")}


@pytest.mark.public
@pytest.mark.points(3)
def test_parameters_are_registered(check):
    """LinearModel registers weight1, weight2 and bias: nn.Parameters of shape (1,) that require grad."""
    check.same(Inspect(Build("LinearModel")))


@pytest.mark.public
@pytest.mark.points(4)
def test_forward_and_gradients(check, rng):
    """forward(x) = bias + weight1 * x + weight2 * x, with gradients for x and every parameter."""
    check.same(*[Call(Build("LinearModel", state=_state(rng)), (randn(rng, n, 1, requires_grad=True),),
                      cotangent=randn(rng, n, 1)) for n in (1, 6, 17)])


@pytest.mark.points(3)
def test_forward_broadcasts_over_inputs(check, rng):
    """forward(x) works for inputs of any shape, like the linear model of exercise 1."""
    check.same(*[Call(Build("LinearModel", state=_state(rng)), (randn(rng, *shape, requires_grad=True),),
                      cotangent=randn(rng, *shape)) for shape in [(8,), (2, 3, 4)]])
