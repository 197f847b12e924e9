# expect-verdict: time limit
# expect-points: 0
"""Stalls at import."""
import time

time.sleep(3600)
