# expect-verdict: time limit
# expect-message: wall-clock time limit exceeded
# expect-points: 0
"""Stalls at import, using no CPU: the wall-clock backstop ends it."""
import time

time.sleep(3600)
