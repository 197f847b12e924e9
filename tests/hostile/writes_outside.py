# expect-points: 10
"""Correct, but first tries to write outside its scratch folder: next to the
grader's working directory (found through /proc/<ppid>), into /tmp, and into
its parent's memory. Each write that succeeds makes its model wrong."""
import os

escaped = 0
for path in (f"/proc/{os.getppid()}/cwd/reports/exercise1.html", f"/proc/{os.getppid()}/cwd/PWNED",
             "/tmp/torchgrade-pwned", os.path.expanduser("~/../PWNED"), f"/proc/{os.getppid()}/mem"):
    try:
        with open(path, "w") as handle:
            handle.write("pwned")
        escaped += 1
    except OSError:
        pass


def model(x, w, b):
    return w * x + b + escaped


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean() + escaped
