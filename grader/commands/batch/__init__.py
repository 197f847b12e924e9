"""Grading a whole class: ``grade batch SUBMISSIONS --out OUT``.

One module per part, so that each side of the process boundary imports only
its own:

- ``entries``: what SUBMISSIONS holds, and which entries ``--resume`` keeps;
- ``controller``: ``grade_batch``/``run_batch``: the plan, the class record,
  and OUT rebuilt from it (by ``grader.record.classbook``, the record's view
  as files, and ``grader.record.tally``, the class's numbers);
- ``sink``: where each finished submission goes, whoever graded it (the
  record, the outcome, the progress events); runners import it, never the
  controller;
- ``local_workers``: the worker processes, kept busy, a dead one's entries
  retried;
- ``worker``: a fresh interpreter grading its share (``grade_share``, the
  body a Dask worker runs too); like pytest-xdist's ``remote.py`` it imports
  nothing of the controller, and only plain data crosses between them;
- ``events``: what a worker says and what the display is told, typed;
- ``progress``: the progress bar and the closing screen;
- ``cluster``, ``cluster_worker``, ``payload``: the same on a Dask cluster
  (``--scheduler``): the client side, the worker side, and the bytes between.

This file imports none of them: importing ``grader.commands.batch.worker``
must not bring the controller along.
"""
