"""Hidden suite for exercise 2: the gradient of the MSE by the chain rule, without autograd."""
import pytest
import torch

from grader.engine.checks import Call, randn

SHAPES = [(9,), (4, 1), (3, 5)]
NO_AUTOGRAD = ("grad_fn runs here with autograd switched off: compute the gradient with the chain rule, "
               "from dloss_fn, dmodel_dw and dmodel_db.")
# The errors code that relies on autograd raises when it is switched off (explain.explain_error's kinds).
AUTOGRAD_OFF = ("no_grad_fn",)


@pytest.mark.public
@pytest.mark.points(2)
def test_dloss_fn(check, rng):
    """dloss_fn(y_hat, y) is the derivative of the MSE w.r.t. each prediction."""
    check.same(*[Call("dloss_fn", (randn(rng, *shape), randn(rng, *shape)), autograd=False, after=True)
                 for shape in SHAPES])


@pytest.mark.points(2)
def test_model_derivatives(check, rng):
    """dmodel_dw and dmodel_db are the derivatives of w * x + b w.r.t. w and b, shaped like x."""
    cases = [(randn(rng, *shape), randn(rng), randn(rng)) for shape in SHAPES]
    check.same(*[Call(name, case, autograd=False, after=True) for name in ("dmodel_dw", "dmodel_db") for case in cases])


def _case(rng: torch.Generator, shape: tuple, float_parameters: bool) -> tuple:
    x, y = randn(rng, *shape), randn(rng, *shape)
    w, b = randn(rng), randn(rng)
    if float_parameters:
        w, b = w.item(), b.item()
    return x, y, w * x + b, w, b


@pytest.mark.public
@pytest.mark.points(4)
def test_grad_fn_with_tensor_parameters(check, rng):
    """grad_fn returns [dL/dw, dL/db], shape (2,), equal to what autograd would give."""
    check.same(*[Call("grad_fn", _case(rng, shape, float_parameters=False), autograd=False, after=True)
                 for shape in SHAPES], error_hint=NO_AUTOGRAD, error_hint_for=AUTOGRAD_OFF)


@pytest.mark.points(2)
def test_grad_fn_with_float_parameters(check, rng):
    """grad_fn also works when w and b are Python floats."""
    check.same(*[Call("grad_fn", _case(rng, shape, float_parameters=True), autograd=False, after=True)
                 for shape in SHAPES[:2]], error_hint=NO_AUTOGRAD, error_hint_for=AUTOGRAD_OFF)
