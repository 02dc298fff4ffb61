"""Profiling analysis (pandas only): top ops per case, op comparisons, step breakdowns, overhead.

Inputs are a run's ``ops`` and ``cases`` tables (:mod:`harness.schema`). Times
are normalised per optimizer update (``us_per_step`` = self time / profiled
updates), so cases profiled over different windows compare. Rows of profiled
repeats are timing-perturbed: :func:`timing_rows` is what comparisons and
leaderboards read (:func:`harness.analysis.frames.timing_rows` leaves them out unless asked).
"""

from __future__ import annotations

import pandas as pd

OP_CATEGORIES = ("xla_op", "tf_op", "tf_op_eager")
HOST_CATEGORIES = ("runtime", "untraced")
REPORT_TOP_N = 8  # op types per case in the report's top-ops table and figure
BREAKDOWN = ["profile_compute_share", "profile_input_share", "profile_idle_share", "profile_host_overhead_share"]


def per_step(ops: pd.DataFrame, source: str = "trace_viewer",
             categories: tuple[str, ...] | None = OP_CATEGORIES) -> pd.DataFrame:
    """Ops of one converter, aggregated by case x repeat x op type, with per-update figures.

    Columns: case_label, case_id, repeat, category, op_type, occurrences,
    self_time_us, self_time_share, profiled_steps, us_per_step, calls_per_step.
    """
    df = ops[ops["source"] == source]
    if categories is not None:
        df = df[df["category"].isin(categories)]
    keys = ["case_label", "case_id", "repeat", "category", "op_type"]
    out = (df.groupby(keys, dropna=False, observed=True)
           .agg(occurrences=("occurrences", "sum"), self_time_us=("self_time_us", "sum"),
                self_time_share=("self_time_share", "sum"), profiled_steps=("profiled_steps", "first"))
           .reset_index())
    steps = out["profiled_steps"].astype("float64")
    out["us_per_step"] = out["self_time_us"] / steps
    out["calls_per_step"] = out["occurrences"].astype("float64") / steps
    return out


def top_ops(ops: pd.DataFrame, n: int = 10, source: str = "trace_viewer",
            categories: tuple[str, ...] | None = OP_CATEGORIES) -> pd.DataFrame:
    """The ``n`` op types with the most self time per update, per case x repeat (repeats averaged)."""
    df = per_step(ops, source, categories)
    if df.empty:
        return df
    df = (df.groupby(["case_label", "category", "op_type"], observed=True)
          [["us_per_step", "calls_per_step", "self_time_share"]].mean().reset_index())
    df = df.sort_values(["case_label", "us_per_step"], ascending=[True, False])
    return df.groupby("case_label", observed=True).head(n).reset_index(drop=True)


def compare_ops(ops: pd.DataFrame, op_types: list[str] | None = None, n: int = 15,
                source: str = "trace_viewer") -> pd.DataFrame:
    """op type x case table of microseconds of self time per update (NaN: the case never ran it).

    Without ``op_types``, the ``n`` op types with the most time summed over cases.
    """
    df = per_step(ops, source)
    if df.empty:
        return pd.DataFrame()
    table = df.pivot_table(index="op_type", columns="case_label", values="us_per_step", aggfunc="mean")
    if op_types is not None:
        return table.reindex(op_types)
    return table.loc[table.sum(axis=1).sort_values(ascending=False).index[:n]]


def op_delta(ops: pd.DataFrame, base: str, other: str, source: str = "trace_viewer") -> pd.DataFrame:
    """Per-update op time of ``other`` minus ``base`` (case labels), largest extra cost first.

    E.g. ``op_delta(ops, "minibatch_sgd/eager", "adam/eager")``: the ops Adam's
    update adds to SGD's (moments, square roots, divisions), in us per update.
    """
    df = per_step(ops, source)
    table = df.pivot_table(index="op_type", columns="case_label", values=["us_per_step", "calls_per_step"],
                           aggfunc="mean")
    missing = {base, other} - set(df["case_label"])
    if missing:
        raise KeyError(f"no profiled ops for case(s) {sorted(missing)}; known: {sorted(set(df['case_label']))}")
    out = pd.DataFrame({
        f"{base} us/step": table[("us_per_step", base)], f"{other} us/step": table[("us_per_step", other)],
        f"{base} calls/step": table[("calls_per_step", base)],
        f"{other} calls/step": table[("calls_per_step", other)],
    }).fillna(0.0)
    out["extra_us_per_step"] = out[f"{other} us/step"] - out[f"{base} us/step"]
    return out.sort_values("extra_us_per_step", ascending=False)


def breakdown(cases: pd.DataFrame) -> pd.DataFrame:
    """Step-time breakdown of the profiled cases: compute, input, idle, host overhead (shares)."""
    prof = cases[cases["profiled"].fillna(False).astype(bool)]
    cols = ["case_label", "repeat", "engine", "optimizer", "profiled_steps", "profile_step_ms", *BREAKDOWN,
            "profile_error"]
    return prof[cols].reset_index(drop=True)


def host_share(ops: pd.DataFrame) -> pd.DataFrame:
    """Share of the profiled window the Python thread spent outside ops (runtime + untraced), per case."""
    df = ops[(ops["source"] == "trace_viewer") & (ops["thread"] == "python")]
    keys = ["case_label", "repeat"]
    host = df[df["category"].isin(HOST_CATEGORIES)].groupby(keys, observed=True)["self_time_share"].sum()
    ops_ = df[df["category"].isin(OP_CATEGORIES)].groupby(keys, observed=True)["self_time_share"].sum()
    out = pd.DataFrame({"python_thread_host_share": host, "python_thread_op_share": ops_}).fillna(0.0)
    return out.groupby("case_label", observed=True).mean()  # mean over repeats
