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
