# expect-verdict: import error
# expect-points: 0
"""Raises KeyboardInterrupt while being imported."""
raise KeyboardInterrupt
