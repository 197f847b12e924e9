# expect-verdict: disk quota
# expect-points: 0
# expect-message: wrote more than it may
"""Writes 18 files of 15 MB, each under the per-file cap (16 MB), 270 MB in
all: only a quota on everything the room writes together stops it (issue 23
§4). The write past the quota fails with ENOSPC, which is its own verdict."""

block = b"\0" * (1 << 20)
for number in range(18):
    with open(f"part{number}.bin", "wb") as handle:
        for _ in range(15):
            handle.write(block)


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
