# expect: correct
"""Exercise 7 - Fitting a curve.

Fit a parabola y ~ a * t**2 + b * t + c to data by gradient descent, one
step at a time, with autograd computing the gradient and you taking the step.

f(t, params)
    t       a tensor of inputs.
    params  a tensor of shape (3,) holding [a, b, c] (a, b, c = params).
    Returns a * t ** 2 + b * t + c, shaped like t.

mse(preds, targets)
    Tensors of the same shape. Returns the mean squared error, a 0-dim
    tensor: the mean over all elements of (preds - targets) ** 2.

apply_step(params, t, y, lr)
    params  a leaf tensor of shape (3,) with requires_grad=True.
    t, y    tensors of the same shape: inputs and targets.
    lr      float, the learning rate.
    One step of gradient descent, in this order:
      1. loss = mse(f(t, params), y), and loss.backward():
         autograd fills params.grad with dloss/dparams;
      2. params.data -= lr * params.grad.data: move params a small step
         *against* the gradient (downhill), in place. Through .data (or
         inside torch.no_grad()) the update itself is not recorded by
         autograd: it is not part of the model's computation, and an
         in-place change of a leaf that requires grad is refused otherwise;
      3. params.grad = None: backward() *adds* to .grad, so a gradient left
         there would be added to the next step's and the steps would grow.
    Returns the loss *before* the step, as a Python float (loss.item()).
    Update params in place: the caller's tensor is the one that learns
    (params = params - ... would only rebind your local name).

Check your work:  grade exercise7
"""
import torch


def f(t, params):
    """The quadratic a * t**2 + b * t + c for [a, b, c] = params."""
    return params[0] * t * t + params[1] * t + params[2]


def mse(preds, targets):
    """Mean squared error between preds and targets."""
    return torch.nn.functional.mse_loss(preds, targets)


def apply_step(params, t, y, lr):
    """One step of gradient descent on params, in place; returns the loss before the step."""
    preds = f(t, params)
    loss = mse(preds, y)
    loss.backward()
    with torch.no_grad():
        params -= lr * params.grad
    params.grad = None
    return loss.item()


if __name__ == "__main__":
    t = torch.linspace(-2, 2, 50)
    y = 1.5 * t ** 2 - 0.5 * t + 2.0
    params = torch.zeros(3, requires_grad=True)
    for step in range(500):
        loss = apply_step(params, t, y, 0.05)
        if step % 100 == 0:
            print(f"step {step}: loss {loss:.4f}")
    print("fitted [a, b, c]:", params.detach())
