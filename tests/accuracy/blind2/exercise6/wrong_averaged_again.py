# expect: wrong
# expect-words: N times too small | divided twice | averag | already
# why: divides autograd's gradient by the number of samples, although the mean already did
"""Exercise 6 - Gradients without and with autograd.

For the linear model y_hat = w * x + b and the loss

    L(w, b) = mean((w * x + b - y) ** 2)

the gradient [dL/dw, dL/db] says how the loss changes when w or b moves a
little. Compute it twice: once by trying small moves (no calculus, no
autograd), once by letting autograd do the calculus.

grad_by_finite_differences(x, y, w, b, delta=0.1)
    x, y   tensors of the same shape: inputs and targets.
    w, b   Python floats or 0-dim tensors.
    delta  the size of the small move (a float).
    Returns tensor([dL/dw, dL/db]), shape (2,), by *central* differences:

        dL/dw ~ (L(w + delta, b) - L(w - delta, b)) / (2 * delta)
        dL/db ~ (L(w, b + delta) - L(w, b - delta)) / (2 * delta)

    Why central? A forward difference (L(w + delta) - L(w)) / delta is off
    by an error proportional to delta (it measures the slope a little to
    one side of w). Taking one point on each side cancels that first error
    term: the central difference's error shrinks like delta ** 2, and for
    this loss (a parabola in w and in b) it is exact. The two points are
    2 * delta apart, hence the division by 2 * delta. Use the delta you are
    given. Do not use autograd here (.backward(), torch.autograd): the
    grader reads your function's source and refuses it.

grad_by_autograd(x, y, w, b)
    The same arguments (w, b floats or 0-dim tensors); returns the same
    tensor([dL/dw, dL/db]), shape (2,), computed with autograd:
      1. make *fresh leaf tensors* from the values of w and b, with
         requires_grad=True: torch.as_tensor(w) is a tensor for a float and
         a tensor alike; .detach().clone() gives a copy of its own, cut from
         the caller's computation; .requires_grad_() makes it a leaf that
         autograd fills;
      2. compute the loss from them, call loss.backward();
      3. read the gradients from your leaves' .grad.
    The caller's w and b must be left exactly as they were. If you call
    w.requires_grad_() on the caller's tensor, or backward() through it, you
    switch requires_grad on for them, and backward() leaves a gradient in
    their .grad, where the caller's next backward() would *add* to it. Fresh
    leaves keep the caller's tensors untouched.

Check your work:  grade exercise6
(The two functions should agree: try both on the same inputs.)
"""
import torch


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    """[dL/dw, dL/db] by central differences with step delta, without autograd."""
    def loss(w_, b_):
        return ((w_ * x + b_ - y) ** 2).mean()

    dw = (loss(w + delta, b) - loss(w - delta, b)) / (2 * delta)
    db = (loss(w, b + delta) - loss(w, b - delta)) / (2 * delta)
    return torch.stack([dw, db])


def grad_by_autograd(x, y, w, b):
    """[dL/dw, dL/db] by loss.backward() on fresh leaf tensors made from w and b."""
    w_leaf = torch.as_tensor(w).detach().clone().requires_grad_()
    b_leaf = torch.as_tensor(b).detach().clone().requires_grad_()
    loss = ((w_leaf * x + b_leaf - y) ** 2).mean()
    loss.backward()
    return torch.stack([w_leaf.grad, b_leaf.grad]) / x.numel()


if __name__ == "__main__":
    x = torch.linspace(-1, 1, 20)
    y = 2.5 * x - 1.0
    print("finite differences:", grad_by_finite_differences(x, y, 0.5, 0.0))
    print("autograd:          ", grad_by_autograd(x, y, 0.5, 0.0))
