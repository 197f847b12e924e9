"""Which submissions of a class look worked on together, and the evidence.

Pure logic, no torch: ``code`` fingerprints normalised source (winnowing),
``ranking`` weighs what two submissions share by how rare it is in the class
(code fingerprints and the answer marks a grading run left in each exercise
result) and groups the pairs into clusters. ``grader.commands.similar`` reads
a class and writes the page, the CSV and the class record's table.
"""
