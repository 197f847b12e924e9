"""A correct exercise 6 written differently from the reference."""
import torch


def _loss(p, x, y):
    return ((p[0] * x + p[1] - y) ** 2).mean()


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    p = torch.stack([torch.as_tensor(w, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)])
    grads = []
    for i in range(2):
        step = torch.zeros(2)
        step[i] = delta
        grads.append((_loss(p + step, x, y) - _loss(p - step, x, y)) / (2 * delta))
    return torch.stack(grads)


def grad_by_autograd(x, y, w, b):
    p = torch.tensor([float(w), float(b)], requires_grad=True)
    (grad,) = torch.autograd.grad(_loss(p, x, y), [p])
    return grad
