"""The analyser of what an exercise forbids (grader/course/forbidden.py): pure, no torch, no sandbox."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.course.forbidden import ForbidRule, describe, find_forbidden

ROOT = Path(__file__).resolve().parent.parent
AUTOGRAD = ForbidRule("autograd", ("grad_fn",), "the exercise asks for the chain rule by hand.")
OPTIM = ForbidRule("torch.optim", ("training_loop",), "the update is the point of the exercise.")


def found(source: str, rule: ForbidRule = AUTOGRAD, **kwargs) -> list[tuple[int, str, bool]]:
    return [(f.line, f.what, f.unanalysable)
            for f in find_forbidden(textwrap.dedent(source), [rule], **kwargs)]


def flagged(source: str, rule: ForbidRule = AUTOGRAD, **kwargs) -> bool:
    """Refused, naming the forbidden thing itself or what is not on the rule's allow-list."""
    return any(not opaque for _, _, opaque in found(source, rule, **kwargs))


def refused(source: str, rule: ForbidRule = AUTOGRAD, **kwargs) -> bool:
    """Refused for any reason: forbidden, not on the allow-list, or unreadable."""
    return bool(found(source, rule, **kwargs))


@pytest.mark.parametrize("source", [
    # attribute chains
    "import torch\ndef grad_fn(x):\n    return torch.autograd.grad(x.sum(), x)\n",
    "import torch\ndef grad_fn(x):\n    with torch.enable_grad():\n        return x\n",
    "import torch\ndef grad_fn(x):\n    torch.set_grad_enabled(True)\n",
    "import torch\ndef grad_fn(x):\n    return torch.func.grad(lambda v: v.sum())(x)\n",
    "def grad_fn(x):\n    x.sum().backward()\n",
    "def grad_fn(x):\n    x.requires_grad_()\n",
    "def grad_fn(x):\n    x.requires_grad = True\n",
    "import torch\ndef grad_fn(x):\n    w = torch.tensor(1.0, requires_grad=True)\n",
    # imports and aliases
    "from torch import autograd as ag\ndef grad_fn(x):\n    return ag.grad(x, x)\n",
    "import torch.autograd as A\ndef grad_fn(x):\n    return A.grad(x, x)\n",
    "from torch.func import grad\ndef grad_fn(x):\n    return grad(f)(x)\n",
    "import torch as t\ndef grad_fn(x):\n    return t.autograd.grad(x, x)\n",
    "import torch\nT = torch\ng = T.autograd\ndef grad_fn(x):\n    return g.grad(x, x)\n",
    "from torch import *\ndef grad_fn(x):\n    with enable_grad():\n        return x\n",
    "def grad_fn(x):\n    import torch.autograd\n    return x\n",
    "def grad_fn(x):\n    from torch import autograd\n    return x\n",
    "import torch\ndef grad_fn(x):\n    t = torch\n    return t.autograd.grad(x, x)\n",
    # getattr and import calls with constant strings
    "import torch\ndef grad_fn(x):\n    return getattr(torch, 'autograd').grad(x, x)\n",
    "def grad_fn(x):\n    return getattr(x.sum(), 'backward')()\n",
    "def grad_fn(x):\n    return __import__('torch.autograd').autograd.grad(x, x)\n",
    "import importlib\ndef grad_fn(x):\n    return importlib.import_module('torch.func').grad(f)(x)\n",
    "import sys\ndef grad_fn(x):\n    return sys.modules['torch.autograd'].grad(x, x)\n",
    # the module's own call graph: helpers, classes, defaults, decorators, redefinitions
    "import torch\ndef helper(x):\n    return torch.autograd.grad(x, x)\ndef grad_fn(x):\n    return helper(x)\n",
    "import torch\ndef a(x):\n    return b(x)\ndef b(x):\n    x.backward()\ndef grad_fn(x):\n    return list(map(a, [x]))\n",
    "import torch\nclass H:\n    def run(self, x):\n        x.backward()\ndef grad_fn(x):\n    return H().run(x)\n",
    "import torch\ndef grad_fn(x, g=torch.autograd.grad):\n    return g(x, x)\n",
    "import torch\nG = torch.func.grad\ndef grad_fn(x):\n    return G(f)(x)\n",
    "import torch\ngrad_fn = torch.func.grad(lambda x: x.sum())\n",
    "def grad_fn(x):\n    return x\ndef grad_fn(x):\n    x.backward()\n",
    "import torch\ndef setup():\n    global G\n    G = torch.autograd.grad\ndef grad_fn(x):\n    return G(x, x)\n",
])
def test_each_way_of_reaching_autograd_is_found(source):
    assert flagged(source), found(source)


@pytest.mark.parametrize("source", [
    "import torch\ndef training_loop(p):\n    torch.optim.SGD([p], lr=0.1).step()\n",
    "import torch.optim as O\ndef training_loop(p):\n    O.SGD([p], lr=0.1).step()\n",
    "from torch.optim import SGD\ndef training_loop(p):\n    SGD([p], lr=0.1).step()\n",
    "from torch import optim\ndef training_loop(p):\n    optim.SGD([p], lr=0.1).step()\n",
    "from torch.optim import *\ndef training_loop(p):\n    SGD([p], lr=0.1).step()\n",
    "import torch as t\ndef training_loop(p):\n    t.optim.Adam([p]).step()\n",
    "def training_loop(p):\n    __import__('torch.optim').optim.SGD([p], lr=0.1).step()\n",
    "import importlib\ndef training_loop(p):\n    importlib.import_module('torch.optim').SGD([p], lr=0.1)\n",
    "import torch\ndef training_loop(p):\n    getattr(torch, 'optim').SGD([p], lr=0.1)\n",
    "import torch\ndef make(p):\n    return torch.optim.SGD([p], lr=0.1)\ndef training_loop(p):\n    make(p).step()\n",
])
def test_each_way_of_reaching_an_optimizer_is_found(source):
    assert flagged(source, OPTIM), found(source, OPTIM)


@pytest.mark.parametrize("source", [
    "import torch\ndef grad_fn(x):\n    return eval('torch.autograd.grad')(x, x)\n",
    "def grad_fn(x):\n    exec('x.backward()')\n",
    "def grad_fn(x):\n    code = compile('x', 'f', 'eval')\n",
    "import torch\ndef grad_fn(x):\n    return getattr(torch, 'auto' + 'grad').grad(x, x)\n",
    "def grad_fn(x, name):\n    return getattr(x, name)()\n",
    "def grad_fn(x, name):\n    return __import__(name)\n",
    "import importlib\ndef grad_fn(x, name):\n    return importlib.import_module(name)\n",
    "import sys\ndef grad_fn(x, name):\n    return sys.modules[name]\n",
    "import torch\ndef grad_fn(x):\n    return torch.__dict__['auto' + 'grad']\n",
    "import pickle\ndef grad_fn(x):\n    return pickle.loads(b'...')\n",
    "def grad_fn(x):\n    return globals()['G']\n",
    "from helpers import g\ndef grad_fn(x):\n    return g(x)\n",
    # module-level code that changes what every function does
    "import torch\ndef evil(*a):\n    pass\ntorch.stack = evil\ndef grad_fn(x):\n    return torch.stack([x])\n",
    "import torch\nsetattr(torch, 'stack', print)\ndef grad_fn(x):\n    return x\n",
    "import sys\nsys.settrace(print)\ndef grad_fn(x):\n    return x\n",
    "exec('import torch')\ndef grad_fn(x):\n    return x\n",
])
def test_what_cannot_be_read_is_refused(source):
    assert refused(source, local_modules={"helpers"}), found(source, local_modules={"helpers"})


@pytest.mark.parametrize("source", [
    # the reference solution itself
    (ROOT / "solutions" / "exercise2.py").read_text(),
    # comments, docstrings and prose strings that mention autograd
    ('"""Do not use autograd here."""\nimport torch\ndef grad_fn(x):\n    """No .backward(), no torch.autograd."""\n'
     "    # torch.autograd.grad would be cheating\n    print('no autograd used here, no backward')\n    return x\n"),
    # a local name that shadows a forbidden one
    "from torch import autograd\ndef grad_fn(x):\n    autograd = 2\n    return autograd * x\n",
    # autograd elsewhere in the file, never reached from grad_fn
    "import torch\ndef check(x):\n    x.backward()\ndef grad_fn(x):\n    return 2 * x\n",
    # a check at import time, and one under the main guard
    ("import torch\nw = torch.tensor(1.0, requires_grad=True)\n(w * 2).backward()\nprint(w.grad)\n"
     "def grad_fn(x):\n    return 2 * x\nif __name__ == '__main__':\n    exec('print(1)')\n"),
    # a redefinition replaces the earlier version (notebooks)
    "def grad_fn(x):\n    x.backward()\ndef grad_fn(x):\n    return 2 * x\n",
    # reading whether grad is on, and honest torch calls
    "import torch\ndef grad_fn(x):\n    assert not torch.is_grad_enabled()\n    return torch.stack([x.sum(), x.mean()])\n",
    # torch.backends switches at import are honest settings
    "import torch\ntorch.backends.cudnn.deterministic = True\ndef grad_fn(x):\n    return x\n",
])
def test_honest_code_is_not_flagged(source):
    assert found(source) == []


def test_an_optimizer_is_allowed_where_no_rule_forbids_it():
    source = (ROOT / "solutions" / "exercise5.py").read_text()
    assert found(source, OPTIM) == []
    assert found("import torch\ndef train(m):\n    torch.optim.SGD(m.parameters())\n"
                 "def training_loop(p, lr):\n    optim = lr\n    p -= optim * p.grad\n", OPTIM) == []


def test_a_local_variable_named_optim_is_not_the_module():
    assert found("def training_loop(params, optim):\n    params -= optim * params.grad\n", OPTIM) == []


def test_the_message_names_what_where_and_why():
    [finding] = find_forbidden("import torch\ndef helper(x):\n    return torch.autograd.grad(x, x)\n"
                               "def grad_fn(x):\n    return helper(x)\n", [AUTOGRAD])
    message = describe([finding])
    assert "torch.autograd.grad" in message and "line 3" in message and "helper" in message
    assert AUTOGRAD.why in message and message.startswith("grad_fn")


def test_methods_of_a_class_can_be_named():
    rule = ForbidRule("autograd", ("Model.forward",), "by hand.")
    source = "class Model:\n    def forward(self, x):\n        x.backward()\n    def other(self, x):\n        return x\n"
    assert [f.line for f in find_forbidden(source, [rule])] == [3]


def test_a_source_that_does_not_parse_has_no_findings():
    assert found("def grad_fn(:\n") == []


@pytest.mark.parametrize("source", [
    # torch's own modules import torch
    "import torch.nn.functional as F\ndef grad_fn(x):\n    return F.torch.func.grad(f)(x)\n",
    # other autograd libraries
    "import jax\ndef grad_fn(x):\n    return jax.grad(f)(x)\n",
])
def test_autograd_reached_another_way_is_found(source):
    assert flagged(source), found(source)


@pytest.mark.parametrize("source", [
    # grad_fn's code swapped for another function's at import
    "def evil(x):\n    x.backward()\ndef grad_fn(x):\n    return x\ngrad_fn.__code__ = evil.__code__\n",
    # the module rebinding its own names through sys.modules
    "import sys\ndef grad_fn(x):\n    return x\nsys.modules[__name__].grad_fn = print\n",
    # a pickle hidden in torch.load
    "import io, torch\ndef grad_fn(x):\n    return torch.load(io.BytesIO(b''), weights_only=False)\n",
])
def test_more_unreadable_code_is_refused(source):
    assert refused(source), found(source)


def test_the_source_is_read_with_its_coding_cookie():
    # In UTF-8 the Latin-1 byte makes a syntax error (nothing found); Python imports it as latin-1.
    source = b"# -*- coding: latin-1 -*-\nimport torch\n\xe9 = 1\ndef grad_fn(x):\n    x.backward()\n"
    assert [f.line for f in find_forbidden(source, [AUTOGRAD])] == [5]


def test_a_source_too_deep_to_read_is_refused():
    source = "def grad_fn(x):\n    return x\ny = " + "+".join(["1"] * 200_000) + "\n"
    findings = find_forbidden(source, [AUTOGRAD])
    assert findings and all(f.unanalysable for f in findings)


def test_aliases_that_refer_to_each_other_are_read_quickly():
    import time

    names = [f"a{i}" for i in range(40)]
    lines = [f"{name} = {' or '.join(n for n in names if n != name)}" for name in names]
    source = "import torch\n" + "\n".join(lines) + "\ndef grad_fn(x):\n    return a0.autograd.grad(x, x)\n"
    started = time.monotonic()
    find_forbidden(source, [AUTOGRAD])
    assert time.monotonic() - started < 2


# -- issue 23 §5: sound by construction ---------------------------------------------------
# Each of these scored full marks with the previous analyser (it found nothing in them).

HONEST_GRAD_FN = "def grad_fn(x, y):\n    return 2 * (x - y)\n"
BY_AUTOGRAD = ("import torch\ndef _auto(x, y):\n    with torch.enable_grad():\n"
               "        return torch.autograd.grad(x.sum(), x)[0]\n")


@pytest.mark.parametrize("source", [
    # the function checked is not the function called: rebinding from a function
    BY_AUTOGRAD + HONEST_GRAD_FN + "def use(f):\n    global grad_fn\n    grad_fn = f\n    return f\n@use\ndef _g(x, y):\n    return _auto(x, y)\n",
    BY_AUTOGRAD + HONEST_GRAD_FN + "def install(f):\n    global grad_fn\n    grad_fn = f\ninstall(_auto)\n",
    BY_AUTOGRAD + HONEST_GRAD_FN + "def install():\n    globals()['grad_fn'] = _auto\ninstall()\n",
    BY_AUTOGRAD + HONEST_GRAD_FN + "import sys\ndef install():\n    setattr(sys.modules[__name__], 'grad_fn', _auto)\ninstall()\n",
    BY_AUTOGRAD + HONEST_GRAD_FN + "def install():\n    vars(__import__(__name__))['grad_fn'] = _auto\ninstall()\n",
    BY_AUTOGRAD + HONEST_GRAD_FN + "def __getattr__(name):\n    return _auto\n",
    # a decorator: what it returns is known only by running it
    "def keep(f):\n    return f\n@keep\n" + HONEST_GRAD_FN,
    # code loaded that the source does not show: a module written at import
    "import pathlib\npathlib.Path('sneaky.py').write_text('...')\nfrom sneaky import grad_fn\n",
    "open('sneaky.py', 'w').write('...')\nimport sneaky\n" + HONEST_GRAD_FN,
    "import sneaky\n" + HONEST_GRAD_FN,
    # module-level data changed at import, then called
    BY_AUTOGRAD + "TABLE = []\nTABLE.append(_auto)\ndef grad_fn(x, y):\n    return TABLE[0](x, y)\n",
    # autograd with none of its names
    "import torch\ndef grad_fn(x, y):\n    s = torch.no_grad()\n    s.prev = True\n    s.__exit__(None, None, None)\n    return x\n",
    "import torch\ndef grad_fn(x, y):\n    p = torch.nn.Parameter(x.clone())\n    return (p * y).sum()\n",
    "def grad_fn(x, y):\n    loss = (x * y).sum()\n    return loss.grad_fn(1.0), loss.grad_fn.next_functions\n",
    "import torch.nn as nn\ndef grad_fn(x, y):\n    return nn.Parameter(x)\n",
    "def grad_fn(x, y):\n    return x.__class__.__mro__\n",
])
def test_what_the_rule_cannot_prove_is_refused(source):
    assert refused(source), found(source)


@pytest.mark.parametrize("source, what", [
    ("import torch\ndef grad_fn(x):\n    return torch.nn.Parameter(x)\n", "torch.nn.Parameter"),
    ("def grad_fn(x):\n    return x.sum().grad_fn.next_functions\n", ".next_functions"),
    ("import torch\ndef grad_fn(x):\n    torch.no_grad().__exit__(None, None, None)\n", ".__exit__"),
    ("def grad_fn(x):\n    return getattr(x, 'sum')()\n", "getattr()"),
])
def test_the_finding_names_what_was_used(source, what):
    assert what in [w for _, w, _ in found(source)], found(source)


def test_other_files_of_the_submission_are_followed_under_the_same_rule():
    source = "from helpers import g\nimport helpers as h\ndef grad_fn(x):\n    return g(x) + h.k(x)\n"
    honest = {"helpers": "def g(x):\n    return 2 * x\ndef k(x):\n    return x\n"}
    assert found(source, local_sources=honest) == []
    cheating = {"helpers": "def g(x):\n    return 2 * x\ndef k(x):\n    x.sum().backward()\n    return x.grad\n"}
    [(line, what, _), *_] = found(source, local_sources=cheating)
    assert (line, what) == (4, ".backward")
    [finding, *_] = find_forbidden(source, [AUTOGRAD], local_sources=cheating)
    assert "helpers.py, line 4" in finding.where()
    rebinding = {"helpers": "import exercise\ndef g(x):\n    return x\nexercise.grad_fn = g\ndef k(x):\n    return x\n"}
    assert refused(source, local_sources=rebinding)


# What students write (tests/accuracy holds more): none of it may be refused.
@pytest.mark.parametrize("source", [
    # loops, a helper, math, a list comprehension
    ("import math\nimport torch\ndef _mse_slope(p, t):\n    return [2 * (a - b) / len(p) for a, b in zip(p.tolist(), t.tolist())]\n"
     "def grad_fn(x, y, y_hat, w, b):\n    slopes = _mse_slope(y_hat.flatten(), y.flatten())\n"
     "    gw = math.fsum(s * xi for s, xi in zip(slopes, x.flatten().tolist()))\n"
     "    gb = sum(slopes)\n    return torch.tensor([gw, gb])\n"),
    # torch.where, clamp, a nested function, a lambda, a loop over the file's functions
    ("import torch\ndef dmodel_dw(x, w, b):\n    return x\ndef dmodel_db(x, w, b):\n    return torch.ones_like(x)\n"
     "def grad_fn(x, y, y_hat, w, b):\n    def dloss(p, t):\n        return 2 * (p - t) / p.numel()\n"
     "    sq = lambda v: torch.where(v > 0, v, v).clamp(-1e9, 1e9)\n    d = sq(dloss(y_hat, y))\n"
     "    return torch.stack([(d * f(x, w, b)).sum() for f in (dmodel_dw, dmodel_db)])\n"),
    # floats and isinstance, an assert, an f-string, no_grad, in-place updates, a while loop
    ("import torch\ndef grad_fn(x, y, y_hat, w, b):\n    if isinstance(w, torch.Tensor):\n        w = float(w.item())\n"
     "    assert x.shape == y.shape, f'shapes {x.shape} {y.shape}'\n    g = torch.zeros(2, dtype=x.dtype)\n"
     "    i = 0\n    with torch.no_grad():\n        while i < x.numel():\n"
     "            d = 2 * (y_hat.reshape(-1)[i] - y.reshape(-1)[i]) / x.numel()\n"
     "            g[0] += d * x.reshape(-1)[i]\n            g[1] += d\n            i += 1\n    return g\n"),
    # a notebook: the function redefined in a later cell, checked with autograd at import
    ("import torch\ndef grad_fn(x, y, y_hat, w, b):\n    return None\n"
     "def grad_fn(x, y, y_hat, w, b):\n    d = 2 * (y_hat - y) / y.numel()\n    return torch.stack([(d * x).sum(), d.sum()])\n"
     "import numpy as np\nimport matplotlib.pyplot as plt\nw = torch.tensor(1.0, requires_grad=True)\n"
     "((w * 2) ** 2).backward()\nprint(w.grad, np.zeros(1))\n"),
])
def test_honest_answers_written_many_ways_are_accepted(source):
    assert found(source) == []


def test_a_course_widens_a_rule_with_allow():
    source = "import torch.fft as fft\ndef grad_fn(x):\n    return fft.fft(x).real.double()\n"
    assert [w for _, w, _ in found(source)] == ["torch.fft.fft"]
    widened = ForbidRule("autograd", ("grad_fn",), "by hand.", allow=("torch.fft.fft",))
    assert found(source, widened) == []


def test_a_loss_from_torch_nn_functional_is_a_computation_by_hand():
    """A blind student's finite differences with F.mse_loss: no autograd in it."""
    source = ("import torch.nn.functional as F\ndef grad_fn(x, y, w):\n"
              "    return (F.mse_loss(w * x + 0.1, y) - F.mse_loss(w * x - 0.1, y)) / 0.2\n")
    assert found(source) == []
