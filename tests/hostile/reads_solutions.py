# expect-verdict: import error
# expect-points: 0
"""Looks for the reference solution in memory and on disk, and uses it if found."""
import gc
import glob
import sys

for name, module in list(sys.modules.items()):
    if "solution" in name or name.startswith("torchgrade_trusted"):
        model, loss_fn = module.model, module.loss_fn
for obj in gc.get_objects():
    if getattr(obj, "__module__", "") and "torchgrade_trusted" in str(getattr(obj, "__module__", "")):
        globals()[obj.__name__] = obj
for pattern in ("/work/*/solutions/exercise1.py", "/*/solutions/exercise1.py", "/tmp/**/solutions/exercise1.py"):
    for path in glob.glob(pattern, recursive=True):
        exec(open(path).read())
if "model" not in globals():
    raise LookupError("no reference solution was reachable")
