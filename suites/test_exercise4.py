"""Hidden suite for exercise 4: two stacked nn.Linear layers, 1 -> 2 -> 1."""
import pytest

from grader.engine.checks import Build, Call, Inspect, randn


def _state(rng):
    return {"layer1.weight": randn(rng, 2, 1), "layer1.bias": randn(rng, 2),
            "layer2.weight": randn(rng, 1, 2), "layer2.bias": randn(rng, 1)}


@pytest.mark.public
@pytest.mark.points(3)
def test_layers(check):
    """Task2 holds layer1 = nn.Linear(1, 2) and layer2 = nn.Linear(2, 1), and nothing else to learn."""
    check.same(Inspect(Build("Task2")))


@pytest.mark.public
@pytest.mark.points(5)
def test_forward_and_gradients(check, rng):
    """forward(x) = layer2(layer1(x)), with gradients for x and every weight and bias."""
    check.same(*[Call(Build("Task2", state=_state(rng)), (randn(rng, n, 1, requires_grad=True),),
                      cotangent=randn(rng, n, 1)) for n in (5, 16)])


@pytest.mark.points(2)
def test_single_sample_batch(check, rng):
    """forward works on a batch of one sample, x of shape (1, 1)."""
    # Several seeded samples and weights: with one, an activation between the
    # layers can pass by luck (a ReLU that happens to clip nothing).
    check.same(*[Call(Build("Task2", state=_state(rng)), (randn(rng, 1, 1, requires_grad=True),),
                      cotangent=randn(rng, 1, 1)) for _ in range(6)])
