"""Grading a whole class: ``grade batch SUBMISSIONS --out OUT``.

One module per part, so that each side of the process boundary imports only
its own:

- ``entries``: what SUBMISSIONS holds, and which entries ``--resume`` keeps;
- the files in OUT and the class's numbers are views of the class record:
  ``grader.record.classbook`` and ``grader.record.tally``;
- ``controller``: ``grade_batch``/``run_batch``, the scheduler that keeps
  workers busy, retries what a dead worker left, and rebuilds OUT;
- ``worker``: a fresh interpreter grading its share; like pytest-xdist's
  ``remote.py`` it imports nothing of the controller, and only plain data
  crosses between them;
- ``progress``: the progress bar and the closing screen;
- ``cluster``, ``cluster_worker``, ``payload``: the same on a Dask cluster
  (``--scheduler``): the client side, the worker side, and the bytes between.

This file imports none of them: importing ``grader.commands.batch.worker``
must not bring the controller along.
"""
