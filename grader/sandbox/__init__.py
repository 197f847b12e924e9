"""The untrusted side: code that runs in the zygote and in sandboxes.

Nothing here knows of tests, solutions or scores. Modules in this package
import only the standard library, torch, safetensors, pyseccomp and the
shared plain-data modules ``grader.sandbox.wire`` and ``grader.sandbox.limits``.
"""
