"""Hidden suite for exercise 3: a model whose parameters are registered nn.Parameters."""
import pytest
import torch

from grader.engine.checks import Build, Call, Inspect, randn


def _state(rng):
    return {name: randn(rng, 1) for name in ("weight1", "weight2", "bias")}


@pytest.mark.public
@pytest.mark.points(2)
def test_parameters_are_registered(check):
    """LinearModel registers weight1, weight2 and bias: nn.Parameters of shape (1,) that require grad."""
    check.same(Inspect(Build("LinearModel")))


@pytest.mark.public
@pytest.mark.points(1)
def test_parameters_start_random(check, rng):
    """LinearModel starts each parameter at a random value (torch.randn), so models built under two seeds differ."""
    x = randn(rng, 5, 1)
    seeds = [int(s) for s in torch.randint(0, 2**31, (2,), generator=rng)]
    builds = [Call(Build("LinearModel"), (x,), autograd=False, seed=seed) for seed in seeds]
    answers = check.student.run_many(builds)
    if any(a.error is not None or type(a.value) is not torch.Tensor for a in answers):
        check.same(*builds)  # the error, or a result of another kind, said as every other test says it
        return
    first, second = (a.value for a in answers)
    expected = check.reference.run_many(builds)
    if torch.equal(first, second) and not torch.equal(expected[0].value, expected[1].value):
        zero = " (zero)" if not bool(first.count_nonzero()) else ""
        check.fail(f"LinearModel gives the same output{zero} whatever the random seed it is built under: its "
                   "parameters start at fixed values. Each parameter's starting value should be random "
                   "(torch.randn), so that every new model starts somewhere else.")


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
