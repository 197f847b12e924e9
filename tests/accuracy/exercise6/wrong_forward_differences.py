# expect: wrong
# expect-words: one-sided | one side
# why: (L(w + delta) - L(w)) / delta: an error proportional to delta
import torch


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    loss = ((w * x + b - y) ** 2).mean()
    loss_w = ((((w + delta) * x + b) - y) ** 2).mean()
    loss_b = ((w * x + (b + delta) - y) ** 2).mean()
    return torch.stack([(loss_w - loss) / delta, (loss_b - loss) / delta])


def grad_by_autograd(x, y, w, b):
    w2 = torch.as_tensor(w).detach().clone().requires_grad_(True)
    b2 = torch.as_tensor(b).detach().clone().requires_grad_(True)
    loss = ((w2 * x + b2 - y) ** 2).mean()
    loss.backward()
    return torch.stack([w2.grad, b2.grad])
