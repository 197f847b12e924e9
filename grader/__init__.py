"""torchgrade: grade PyTorch exercises by their outputs and gradients.

The trusted engine lives in this package; the untrusted side (the code that
runs student submissions) is ``grader.sandbox``.
"""
