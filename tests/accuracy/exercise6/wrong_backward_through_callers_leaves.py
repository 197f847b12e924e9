# expect: wrong
# expect-words: leaves a gradient | added to any they had | plus the one it already had
# why: a w that already requires grad is used as it is: backward() fills (and adds to) the caller's w.grad
import torch


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    def loss(w, b):
        return ((w * x + b - y) ** 2).mean()

    dw = (loss(w + delta, b) - loss(w - delta, b)) / (2 * delta)
    db = (loss(w, b + delta) - loss(w, b - delta)) / (2 * delta)
    return torch.stack([dw, db])


def grad_by_autograd(x, y, w, b):
    if isinstance(w, torch.Tensor) and w.requires_grad:
        w_leaf, b_leaf = w, b
    else:
        w_leaf = torch.tensor(float(w), requires_grad=True)
        b_leaf = torch.tensor(float(b), requires_grad=True)
    loss = ((w_leaf * x + b_leaf - y) ** 2).mean()
    loss.backward()
    return torch.stack([w_leaf.grad, b_leaf.grad])
