"""Tuning (issue 25): the ``[tuning]`` table, its trial sequence, trials and final seeds as cases.

Suite layer (no TensorFlow): :mod:`.space` validates and samples, :mod:`.trials`
expands. Selection reads only validation figures: :mod:`harness.analysis.tuning`.
"""
