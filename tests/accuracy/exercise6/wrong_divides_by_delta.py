# expect: wrong
# expect-words: 2 times too large | twice too large
# why: the central difference divided by delta, not by 2 * delta
import torch


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    def loss(w, b):
        return ((w * x + b - y) ** 2).mean()

    dw = (loss(w + delta, b) - loss(w - delta, b)) / delta
    db = (loss(w, b + delta) - loss(w, b - delta)) / delta
    return torch.stack([dw, db])


def grad_by_autograd(x, y, w, b):
    w2 = torch.as_tensor(w).detach().clone().requires_grad_(True)
    b2 = torch.as_tensor(b).detach().clone().requires_grad_(True)
    loss = ((w2 * x + b2 - y) ** 2).mean()
    loss.backward()
    return torch.stack([w2.grad, b2.grad])
