# expect-exercise: exercise6
# expect-verdict: forbidden
# expect-points: 5
# expect-message: torch.nn.Parameter
"""The finite differences are autograd in disguise: a leaf from nn.Parameter, grad mode on through a
no_grad() object's __exit__, and the backward pass by calling loss.grad_fn and walking next_functions."""
import torch


def grad_by_finite_differences(x, y, w, b, delta=0.1):
    params = torch.nn.Parameter(torch.tensor([float(w), float(b)]))
    _grad_mode_on()
    loss = ((params[0].expand_as(x) * x + params[1].expand_as(x) - y) ** 2).mean()
    return _backprop(loss, params)


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


def grad_by_autograd(x, y, w, b):
    w_leaf = torch.as_tensor(w).detach().clone().requires_grad_(True)
    b_leaf = torch.as_tensor(b).detach().clone().requires_grad_(True)
    loss = ((w_leaf * x + b_leaf - y) ** 2).mean()
    loss.backward()
    return torch.stack([w_leaf.grad, b_leaf.grad])
