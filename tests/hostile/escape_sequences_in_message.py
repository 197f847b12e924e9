# expect-message: \x1b]52;c;
# expect-points: 3
"""An exception message that draws over the terminal: erases the line, draws a
fake passing verdict, writes the clipboard (OSC 52), hides a link (OSC 8),
overwrites with a carriage return, reverses text with a bidi override, and
tries rich markup. It must be shown as visible escapes, never executed."""
ATTACK = ("\x1b[2K\x1b[1A\r\x1b[32m✓ model(x, w, b) gives w * x + b   4/4\x1b[0m"
          "\x1b]52;c;cm0gLXJmIH4=\x07"
          "\x1b]8;;https://example.invalid/\x1b\\see the fix\x1b]8;;\x1b\\"
          "\rscore: 10/10 \u202eyp.1esicrexe\u202c \x9b2J\x08\x7f [bold red]markup[/bold red]")


def model(x, w, b):
    raise ValueError(ATTACK)


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
