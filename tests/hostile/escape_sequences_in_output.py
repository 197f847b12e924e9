# expect-points: 10
"""Correct, but what it prints draws over the terminal (a fake summary, a
clipboard write, a hidden link, a carriage return, a bidi override): its
captured output must reach every report as visible escapes."""
print("\x1b[2J\x1b[H\x1b[32mexercise1 score: 10/10\x1b[0m\x1b]52;c;cm0gLXJmIH4=\x07"
      "\x1b]8;;https://example.invalid/\x1b\\link\x1b]8;;\x1b\\\r\u202eoverride\u202c\x9b31m")


def model(x, w, b):
    print("\x1b[1A\x1b[2K\rall tests passed")
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
