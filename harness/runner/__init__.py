"""The runner: a run as a pipeline, plan -> execute -> record (:func:`harness.runner.runner.run_suite`).

``parent/`` the side that plans and supervises (plan, shards, pool, options, the run's record);
``worker/`` what runs inside a worker process; ``cluster/`` multi-process cases. ``case_row``
(the row every side writes), ``exits`` and ``lifeline`` are shared by the sides.
"""
