# expect-verdict: exited
# expect-points: 0
"""Calls sys.exit(0) while being imported, hoping for a clean exit status."""
import sys

sys.exit(0)
