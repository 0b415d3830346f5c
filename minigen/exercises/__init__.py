"""Backprop exercises graded by the gradient checker (``minigen exercise``): the learner writes an op's
backward rule, the checker runs the op's finite-difference cases on a private copy of the op and, when
they pass, trains the model the rule matters to.  See docs/exercises.md.

    catalog.py     the exercises in the course's order: ops, cases, the model each one trains
    skeletons.py   the files `start` writes (forward given, backward to fill in)
    grade.py       loading a learner's file, private copies of the ops, the checks
    hints.py       hints read off a failed check (broadcast sum, sign, factor 1/2, overflow, ...)
    train.py       the model trained with the learner's rule next to the library's
    commands.py    the command line
"""
