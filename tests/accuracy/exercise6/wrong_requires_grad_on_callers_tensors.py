# expect: wrong
# expect-words: switched requires_grad on
# why: requires_grad_() on the caller's own w and b
import torch


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    def loss(w, b):
        return ((w * x + b - y) ** 2).mean()

    dw = (loss(w + delta, b) - loss(w - delta, b)) / (2 * delta)
    db = (loss(w, b + delta) - loss(w, b - delta)) / (2 * delta)
    return torch.stack([dw, db])


def grad_by_autograd(x, y, w, b):
    if not isinstance(w, torch.Tensor):
        w = torch.tensor(w)
    if not isinstance(b, torch.Tensor):
        b = torch.tensor(b)
    w.requires_grad_()
    b.requires_grad_()
    loss = ((w * x + b - y) ** 2).mean()
    loss.backward()
    return torch.stack([w.grad, b.grad])
