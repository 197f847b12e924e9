# expect: wrong
# expect-words: one-sided | one side
# why: (L(w) - L(w - delta)) / delta, the step taken backwards: an error proportional to delta, of the other sign
import torch


def mse(prediction, target):
    return torch.mean((prediction - target) ** 2)


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    here = mse(w * x + b, y)
    behind_w = mse((w - delta) * x + b, y)
    behind_b = mse(w * x + (b - delta), y)
    return torch.stack([(here - behind_w) / delta, (here - behind_b) / delta])


def grad_by_autograd(x, y, w, b):
    w_ = w.detach().clone().requires_grad_()
    b_ = b.detach().clone().requires_grad_()
    mse(w_ * x + b_, y).backward()
    return torch.stack([w_.grad, b_.grad])
