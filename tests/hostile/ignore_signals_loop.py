# expect-verdict: time limit
# expect-points: 0
"""Ignores SIGTERM, SIGINT and SIGALRM, then loops: only SIGKILL ends it."""
import signal

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
    signal.signal(sig, signal.SIG_IGN)


def model(x, w, b):
    while True:
        pass


def loss_fn(y_hat, y):
    while True:
        pass
