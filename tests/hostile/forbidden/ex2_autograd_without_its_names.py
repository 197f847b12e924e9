# expect-exercise: exercise2
# expect-verdict: forbidden
# expect-points: 4
# expect-message: .prev
"""Autograd with none of its names: grad mode back on through a no_grad() object's prev and __exit__,
a leaf from nn.Parameter, and the backward pass by calling loss.grad_fn and walking next_functions."""
import torch


def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()


def dmodel_dw(x, w, b):
    return x


def dmodel_db(x, w, b):
    return torch.ones_like(x)


def _grad_mode_on():
    switch = torch.no_grad()
    switch.prev = True
    switch.__exit__(None, None, None)


def _backprop(loss, leaf):
    """The backward pass without .backward(): call each node of the graph and follow next_functions."""
    total = torch.zeros_like(leaf)
    stack = [(loss.grad_fn, torch.ones_like(loss))]
    while stack:
        node, upstream = stack.pop()
        outputs = node(upstream)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        for (following, _), output in zip(node.next_functions, outputs, strict=False):
            if following is None or output is None:
                continue
            if following.name().endswith("AccumulateGrad"):
                total = total + output
            else:
                stack.append((following, output))
    return total.detach()


def grad_fn(x, y, y_hat, w, b):
    _grad_mode_on()
    params = torch.nn.Parameter(torch.tensor([float(w), float(b)]))
    loss = ((params[0].expand_as(x) * x + params[1].expand_as(x) - y) ** 2).mean()
    return _backprop(loss, params)
