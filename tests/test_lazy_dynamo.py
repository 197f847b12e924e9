"""What a cold grading must not import until it needs it: the grader's own optimizers run without
torch._dynamo (~1.3 s of CPU to import), and anything else that asks for it gets the real module
(rooms: tests/test_rooms.py); diagnosing a wrong shape imports no sympy (0.3-1.3 s)."""
from __future__ import annotations

import json
import subprocess
import sys

# In a fresh interpreter: the test process may hold the real torch._dynamo already.
PROGRAM = """
import json, sys
import grader.engine.runner  # what installs the stand-in: every grading session imports it
import torch

def real():
    return type(sys.modules["torch._dynamo"]).__name__ == "module"

torch.manual_seed(0)
model = torch.nn.Linear(3, 1)
losses = []
for optimizer_class in (torch.optim.SGD, torch.optim.Adam):
    optimizer = optimizer_class(model.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        loss = model(torch.ones(4, 3)).pow(2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
optimizers_alone = real()
from grader.engine import diagnosis
expected = torch.tensor([[1.0], [2.0], [3.0]])
broadcast = diagnosis.diagnose(expected, expected + torch.arange(4.0))
diagnosed_without_sympy = "sympy" not in sys.modules
compiling = torch._dynamo.is_compiling()  # any other name: the real module, for good
import torch._dynamo.config
print(json.dumps({"optimizers alone": optimizers_alone, "after another name": real(), "compiling": compiling,
                  "losses": losses, "broadcast": broadcast.kind, "diagnosed without sympy": diagnosed_without_sympy}))
"""


def test_the_grader_trains_without_importing_torch_dynamo_until_something_else_needs_it():
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=120, check=True)
    seen = json.loads(done.stdout)
    assert seen["optimizers alone"] is False
    assert seen["after another name"] is True and seen["compiling"] is False
    assert len(seen["losses"]) == 6 and seen["losses"][0] > seen["losses"][2]  # the steps did train
    assert seen["broadcast"] == "broadcast" and seen["diagnosed without sympy"] is True
