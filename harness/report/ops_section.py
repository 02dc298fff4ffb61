"""The report's profiling section: step breakdown, top ops per case, op x case table, a bar plot.

To include it, the report adds :func:`op_tables` to its tables and :data:`SECTION`
to its sections (its tables are empty, and the figure ``None``, for runs with no
profiled case).
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from harness.analysis import ops as ap  # noqa: E402
from harness.report import plots  # noqa: E402
from harness.report.sections import Section  # noqa: E402

TOP_N = 8


def op_tables(cases: pd.DataFrame, ops: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """``op_breakdown``, ``top_ops`` and ``op_compare`` (us of self time per update) for the report."""
    empty = pd.DataFrame()
    profiled = "profiled" in cases.columns and cases["profiled"].fillna(False).astype(bool).any()
    if not profiled:
        return {"op_breakdown": empty, "top_ops": empty, "op_compare": empty}
    has_ops = not ops.empty
    return {
        "op_breakdown": ap.breakdown(cases),
        "top_ops": ap.top_ops(ops, TOP_N) if has_ops else empty,
        "op_compare": ap.compare_ops(ops).reset_index() if has_ops else empty,
    }


def profile_section_tables(run: Any) -> dict[str, pd.DataFrame]:
    """The section's tables for one loaded run (``harness.results.store.Run``)."""
    return op_tables(run.cases, run.ops)


def plot_top_ops(top: pd.DataFrame, n: int = TOP_N) -> plt.Figure | None:
    """Horizontal bars: per case, its ``n`` op types with the most self time per update (us)."""
    if top.empty:
        return None
    labels = sorted(top["case_label"].unique())
    fig, axes = plt.subplots(len(labels), 1, figsize=(7.5, 1.1 + 0.28 * n * len(labels)), squeeze=False)
    for ax, label in zip(axes[:, 0], labels, strict=True):
        rows = top[top["case_label"] == label].nlargest(n, "us_per_step").iloc[::-1]
        ax.barh([f"{t} ({c})" for t, c in zip(rows["op_type"], rows["category"], strict=True)],
                rows["us_per_step"], color="tab:blue")
        ax.set_title(label, fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
    axes[-1, 0].set_xlabel("self time per update (us)")
    fig.tight_layout()
    return fig


def top_ops_figure(tables: dict[str, pd.DataFrame], colors: Any = None) -> bytes | None:
    """:func:`plot_top_ops` as PNG bytes (the signature of a report section's figure)."""
    fig = plot_top_ops(tables.get("top_ops", pd.DataFrame()))
    return None if fig is None else plots._png(fig)


SECTION = Section(
    "ops", "Profiled ops",
    "Cases run with the TensorFlow profiler (harness run --profile): where the marked steps' time "
    "went (compute = an op kernel running, input = only batch gathering, idle = waiting inside a "
    "tf.function with no kernel running, host overhead = Python and eager dispatch), the op types "
    "with the most self time per update, and one op type x case table. The profiler slows the "
    "profiled steps down, so these repeats are left out of every timing table.",
    ("op_breakdown", "top_ops", "op_compare"),
    (top_ops_figure,),
)
