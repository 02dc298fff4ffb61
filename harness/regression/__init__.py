"""The regression gate and the history across commits, in one package.

=====================  ===========================================================================
``gates``              gates parsed from text (``median:5%``); the suite validates ``[gate]`` with it,
                       so it alone ranks with the lowest layer (it imports only the schema)
``compare_inputs``     the two sides of ``harness compare``: runs, pools, baselines, pytest-benchmark files
``identity``           which rows match across sides, and which environments may be compared
``compare``            one side against the other, per case and metric: the verdicts
``decide``             the decision rule for one metric (equivalence margins, exit codes)
``stats``              the statistics the rule uses (exact rank-sum with ties, intervals, corrections)
``power``, ``gate_sim``  how many repeats a gate needs; the gate's error rates, simulated
``history_input``      a results folder read for ``harness history``, in commit order
``history``            change points of every case across commits
``drift``              slow drift of a series (``harness show --drift``)
=====================  ===========================================================================

Rendering lives in :mod:`harness.report` (``compare_md``, ``history_*``); the commands in
:mod:`harness.commands` (``compare``, ``history``).
"""
