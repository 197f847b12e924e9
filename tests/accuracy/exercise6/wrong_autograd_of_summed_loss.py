# expect: wrong
# expect-words: times too large
# why: backward() on the sum of the squared errors
import torch


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    def loss(w, b):
        return ((w * x + b - y) ** 2).mean()

    dw = (loss(w + delta, b) - loss(w - delta, b)) / (2 * delta)
    db = (loss(w, b + delta) - loss(w, b - delta)) / (2 * delta)
    return torch.stack([dw, db])


def grad_by_autograd(x, y, w, b):
    w2 = torch.tensor(float(w), requires_grad=True)
    b2 = torch.tensor(float(b), requires_grad=True)
    loss = ((w2 * x + b2 - y) ** 2).sum()
    loss.backward()
    return torch.stack([w2.grad, b2.grad])
