"""Test tools, imported as a package (``from tests.helpers.cli import run_cli``): no ``sys.path`` edits.

``cli`` (the CLI in a subprocess, process checks), ``suites`` (the tiny suite), ``sweeps_helpers``
(fake shards), ``collectors_fakes`` (fake powercap, NVML, clocks), ``report_*`` (the synthetic
results set, headless Chromium), ``tb_*`` (TensorBoard logdirs and server). ``reliability_optimizers``
is imported by name by spawned workers: :func:`tests.helpers.cli.cli_env` puts this folder on their
``PYTHONPATH``.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout
