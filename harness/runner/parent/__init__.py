"""The parent side of a run: the plan (select, shard, balance, order), the worker pool, the run's
options and its record. Nothing here imports TensorFlow."""
