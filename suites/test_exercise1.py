"""Hidden suite for exercise 1: the linear model and its mean squared error."""
import pytest

from grader.engine.checks import Call, randn

SHAPES = [(7,), (5, 1), (3, 4), (2, 3, 2)]


def _model_call(rng, shape, w_shape=None):
    x = randn(rng, *shape, requires_grad=True)
    if w_shape is None:  # Python floats
        w, b = randn(rng).item(), randn(rng).item()
    else:
        w, b = randn(rng, *w_shape, requires_grad=True), randn(rng, *w_shape, requires_grad=True)
    cotangent = randn(rng, *shape)
    # What the reference answers with w and b exchanged: a slip the failure then names.
    swapped = (("swapped_arguments", {"first": "w", "second": "b"},
                Call("model", (x, b, w), cotangent=cotangent, after=True)),)
    return Call("model", (x, w, b), cotangent=cotangent, after=True, variants=swapped)


@pytest.mark.public
@pytest.mark.points(4)
def test_model_with_tensor_parameters(check, rng):
    """model(x, w, b) gives w * x + b, and its gradients w.r.t. x, w and b, for tensor w and b."""
    check.same(*[_model_call(rng, shape, w_shape=()) for shape in SHAPES])


@pytest.mark.points(2)
def test_model_with_float_parameters(check, rng):
    """model(x, w, b) works when w and b are Python floats."""
    check.same(*[_model_call(rng, shape) for shape in SHAPES[:3]])


@pytest.mark.points(1)
def test_model_broadcasts_parameters_of_shape_1(check, rng):
    """model(x, w, b) broadcasts w and b of shape (1,) over x."""
    check.same(*[_model_call(rng, shape, w_shape=(1,)) for shape in [(6,), (4, 1)]])


@pytest.mark.public
@pytest.mark.points(3)
def test_loss_is_mean_squared_error(check, rng):
    """loss_fn(y_hat, y) is the mean squared error, a 0-dim tensor, with its gradient w.r.t. y_hat."""
    check.same(*[Call("loss_fn", (randn(rng, *shape, requires_grad=True), randn(rng, *shape)),
                      cotangent=randn(rng), after=True) for shape in SHAPES])
