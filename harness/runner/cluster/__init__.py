"""Multi-process cases: a cluster started, supervised and stopped per case (``supervise``), the
processes' entry point (``task``), their spec files (``spec``), the outcome and rows (``outcome``, ``rows``)."""
