# expect: wrong
# expect-words: autograd | chain rule
import torch

def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()

def dmodel_dw(x, w, b):
    return x

def dmodel_db(x, w, b):
    return torch.ones_like(x)

def grad_fn(x, y, y_hat, w, b):
    w = torch.tensor(float(w), requires_grad=True)
    b = torch.tensor(float(b), requires_grad=True)
    loss = ((w * x + b - y) ** 2).mean()
    loss.backward()
    return torch.stack([w.grad, b.grad])
