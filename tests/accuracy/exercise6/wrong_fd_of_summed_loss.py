# expect: wrong
# expect-words: times too large
# expect-words: mean | averages
# why: the loss sums the squared errors
import torch


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    def loss(w, b):
        return torch.sum((w * x + b - y) ** 2)

    dw = (loss(w + delta, b) - loss(w - delta, b)) / (2 * delta)
    db = (loss(w, b + delta) - loss(w, b - delta)) / (2 * delta)
    return torch.stack([dw, db])


def grad_by_autograd(x, y, w, b):
    w2 = torch.as_tensor(w).detach().clone().requires_grad_(True)
    b2 = torch.as_tensor(b).detach().clone().requires_grad_(True)
    loss = ((w2 * x + b2 - y) ** 2).mean()
    loss.backward()
    return torch.stack([w2.grad, b2.grad])
