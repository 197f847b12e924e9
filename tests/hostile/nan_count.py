# expect-verdict: sandbox error
# expect-message: malformed answer
# expect-points: 0
"""Correct answers, but every reply says it dropped NaN characters of output, where the protocol expects a count."""
import sys

zygote = sys.modules["grader.sandbox.untrusted.zygote"]
_real_send = zygote._send


def _send(conn, reply):
    if "value" in reply or "replies" in reply:
        reply = {**reply, "dropped": float("nan")}
    _real_send(conn, reply)


zygote._send = _send


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
