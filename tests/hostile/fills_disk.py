# expect-points: 10
"""Correct, but first tries to fill the disk from its scratch folder; the
file-size limit stops it, and whatever it wrote goes with the scratch folder."""

block = b"\0" * (1 << 20)
try:
    with open("filler.bin", "wb") as handle:
        for _ in range(100_000):
            handle.write(block)
except OSError:
    pass


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
