"""The class record: every batch run, kept in ``OUT/gradebook.sqlite``.

``database`` stores runs, results, overrides and exports (sqlite3, WAL, a
versioned schema); ``views`` rebuilds ``gradebook.csv`` and the class's
current results from it; ``history`` says what changed between runs;
``roster`` reads the roster CSV and ``exports`` writes the LMS files. Nothing
here imports torch, a solution or a suite: the batch controller and the CLI
call it from the trusted, torch-free side.
"""
