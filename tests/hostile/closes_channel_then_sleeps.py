# expect-verdict: sandbox error
# expect-message: closed its connection to the grader
# expect-points: 0
"""Closes its end of the reply channel, then sleeps: the grader must not wait
for a process that will not exit (the zygote's reap of it has a deadline)."""
import os
import stat
import time


def _channel_fd():
    for fd in range(3, 256):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
    raise LookupError("no channel")


os.close(_channel_fd())
time.sleep(3600)


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
