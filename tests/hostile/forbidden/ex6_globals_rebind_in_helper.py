# expect-exercise: exercise6
# expect-verdict: forbidden
# expect-points: 5
# expect-message: globals()
"""A helper called at import swaps grad_by_finite_differences for autograd through globals()."""
import torch


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    def loss(w, b):
        return ((w * x + b - y) ** 2).mean()

    dloss_dw = (loss(w + delta, b) - loss(w - delta, b)) / (2 * delta)
    dloss_db = (loss(w, b + delta) - loss(w, b - delta)) / (2 * delta)
    return torch.stack([dloss_dw, dloss_db])


def grad_by_autograd(x, y, w, b):
    w_leaf = torch.as_tensor(w).detach().clone().requires_grad_(True)
    b_leaf = torch.as_tensor(b).detach().clone().requires_grad_(True)
    loss = ((w_leaf * x + b_leaf - y) ** 2).mean()
    loss.backward()
    return torch.stack([w_leaf.grad, b_leaf.grad])


def _by_autograd(x, y, w, b, delta=0.1):
    with torch.enable_grad():
        return grad_by_autograd(x, y, w, b)


def _install():
    namespace = globals()
    namespace["grad_by_finite_differences"] = _by_autograd


_install()
