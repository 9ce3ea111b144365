"""``python main.py sweep``: every (task, algorithm, variant, seed) of a study as a Ray task.

plan.py: the command line, the runs and what each has done so far on disk; runner.py: Ray, the
progress line, stopping; report.py: evaluations.csv, summary.csv, the figures and results.md.
"""
