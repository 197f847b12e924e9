"""Hidden suite for exercise 6: the gradient by central differences, then by autograd on fresh leaves."""
import pytest
import torch

from grader.engine.checks import Call, randn

NO_AUTOGRAD = ("grad_by_finite_differences runs here with autograd switched off: compute it from the loss "
               "at w ± delta and at b ± delta.")
# The errors code that relies on autograd raises when it is switched off (explain.explain_error's kinds).
AUTOGRAD_OFF = ("no_grad_fn",)


def _data(rng: torch.Generator, *shape: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = randn(rng, *shape)
    return x, 1.5 * x - 0.5 + 0.3 * randn(rng, *shape)


def _parameters(rng: torch.Generator, kind: str) -> tuple:
    """w and b as the caller may hold them: Python floats, plain 0-dim tensors,
    or 0-dim tensors that require grad (the caller's own leaves)."""
    w, b = randn(rng), randn(rng)
    if kind == "float":
        return w.item(), b.item()
    return (w.requires_grad_(), b.requires_grad_()) if kind == "requires_grad" else (w, b)


def _differences(rng: torch.Generator, kind: str, delta: float | None, *shape: int) -> Call:
    kwargs = {} if delta is None else {"delta": delta}
    return Call("grad_by_finite_differences", (*_data(rng, *shape), *_parameters(rng, kind)), kwargs,
                autograd=False)


@pytest.mark.public
@pytest.mark.points(4)
def test_finite_differences(check, rng):
    """grad_by_finite_differences gives [dL/dw, dL/db] by central differences with the delta asked for, for
    w and b as tensors or as floats."""
    check.same(_differences(rng, "tensor", None, 10), _differences(rng, "float", 0.5, 10),
               _differences(rng, "requires_grad", 0.25, 12), error_hint=NO_AUTOGRAD, error_hint_for=AUTOGRAD_OFF)


@pytest.mark.points(1)
def test_finite_differences_on_a_table(check, rng):
    """grad_by_finite_differences averages over every element of a 2-D input."""
    check.same(_differences(rng, "float", 0.2, 4, 3), error_hint=NO_AUTOGRAD, error_hint_for=AUTOGRAD_OFF)


def _autograd(rng: torch.Generator, kind: str, *shape: int, stale: bool = False) -> Call:
    """With ``stale``, the caller's w and b already hold a gradient (as after
    their own backward()): it must still be there, unchanged, after the call."""
    grads = (None, None, randn(rng), randn(rng)) if stale else ()
    return Call("grad_by_autograd", (*_data(rng, *shape), *_parameters(rng, kind)), after=True, after_grads=True,
                grads=grads)


@pytest.mark.public
@pytest.mark.points(3)
def test_autograd(check, rng):
    """grad_by_autograd gives [dL/dw, dL/db] with backward(), and leaves the caller's w and b as they were: no
    requires_grad switched on, no .grad left behind."""
    check.same(_autograd(rng, "float", 10), _autograd(rng, "tensor", 10), _autograd(rng, "requires_grad", 8))


@pytest.mark.points(2)
def test_autograd_leaves_the_callers_gradients_alone(check, rng):
    """grad_by_autograd gives the right gradient, and leaves it out of the caller's w.grad and b.grad, also when
    they already hold one."""
    check.same(_autograd(rng, "requires_grad", 4, 3, stale=True), _autograd(rng, "tensor", 6))
