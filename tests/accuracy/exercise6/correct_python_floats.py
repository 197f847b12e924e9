# expect: correct
# why: the four losses as Python floats, the gradient rebuilt with torch.tensor; fresh leaves from float(...)
import torch


def loss_at(x, y, w, b):
    return torch.mean((y - (w * x + b)) ** 2)


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    w, b = float(w), float(b)
    dw = (loss_at(x, y, w + delta, b).item() - loss_at(x, y, w - delta, b).item()) / (2 * delta)
    db = (loss_at(x, y, w, b + delta).item() - loss_at(x, y, w, b - delta).item()) / (2 * delta)
    return torch.tensor([dw, db])


def grad_by_autograd(x, y, w, b):
    w_leaf = torch.tensor(float(w), requires_grad=True)
    b_leaf = torch.tensor(float(b), requires_grad=True)
    loss_at(x, y, w_leaf, b_leaf).backward()
    return torch.tensor([w_leaf.grad.item(), b_leaf.grad.item()])
