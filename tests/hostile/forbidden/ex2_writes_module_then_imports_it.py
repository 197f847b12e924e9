# expect-exercise: exercise2
# expect-verdict: forbidden
# expect-points: 0
# expect-message: import sneaky_gradient
"""At import, the file writes a module holding an autograd grad_fn beside itself, then imports grad_fn from it."""
import importlib
import pathlib

import torch

pathlib.Path(__file__).with_name("sneaky_gradient.py").write_text(
    "import torch\n\n\n"
    "def grad_fn(x, y, y_hat, w, b):\n"
    "    with torch.enable_grad():\n"
    "        params = torch.tensor([float(w), float(b)], requires_grad=True)\n"
    "        loss = ((params[0] * x + params[1] - y) ** 2).mean()\n"
    "        return torch.autograd.grad(loss, params)[0]\n")
importlib.invalidate_caches()

from sneaky_gradient import grad_fn  # noqa: E402, F401


def dloss_fn(y_hat, y):
    return 2 * (y_hat - y) / y_hat.numel()


def dmodel_dw(x, w, b):
    return x


def dmodel_db(x, w, b):
    return torch.ones_like(x)
