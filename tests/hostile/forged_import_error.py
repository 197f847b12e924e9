# expect-verdict: sandbox error
# expect-message: malformed answer
# expect-points: 0
"""Rewrites the room's serving code at import, so that the answer to "load" is a
failure whose error is a number, not a description (the grader once raised on it)."""
import sys

zygote = sys.modules["grader.sandbox.untrusted.zygote"]
_real_send = zygote._send


def _send(conn, reply):
    if "loaded" in reply:
        reply = {"loaded": False, "error": 5}
    _real_send(conn, reply)


zygote._send = _send


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
