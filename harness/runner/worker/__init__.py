"""The worker side: what runs inside a worker process (its loop, one case's execution, the hooks
around the engine's phases, the preflight checks, a case's memory)."""
