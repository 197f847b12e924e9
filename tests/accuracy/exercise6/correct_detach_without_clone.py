# expect: correct
# why: .detach() alone makes a new leaf (sharing memory, but never written to), so the caller's tensor is untouched
import torch


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    L = lambda w, b: ((w * x + b - y) ** 2).mean()  # noqa: E731
    return torch.stack([(L(w + delta, b) - L(w - delta, b)) / (2 * delta),
                        (L(w, b + delta) - L(w, b - delta)) / (2 * delta)])


def grad_by_autograd(x, y, w, b):
    if isinstance(w, torch.Tensor):
        w = w.detach()
    else:
        w = torch.tensor(w)
    if isinstance(b, torch.Tensor):
        b = b.detach()
    else:
        b = torch.tensor(b)
    w.requires_grad = True
    b.requires_grad = True
    loss = ((w * x + b - y) ** 2).mean()
    loss.backward()
    return torch.stack([w.grad, b.grad])
