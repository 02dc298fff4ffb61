"""The report's sections: title, what each shows, its figure and the tables behind it.

HTML and Markdown both walk :data:`SECTIONS`, so the two formats never disagree
about what a section contains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from harness.report import plots, plots_config, plots_field, style, tuned

Figure = Callable[[Mapping[str, pd.DataFrame], Mapping[str, object]], bytes | None]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    text: str
    tables: tuple[str, ...]
    figures: tuple[Figure, ...] = ()
    in_markdown: bool = True
    per_epoch: bool = False  # its tables have a row per epoch: folded under the figure in HTML


SECTIONS: tuple[Section, ...] = (
    Section(
        "leaderboard", "Optimizer leaderboard",
        "One row per configuration (series: the label used in every figure and table). Final test "
        "accuracy, time to target on the training clock, and wall_to_target_s, the end-to-end time "
        "to target (compilation + training + evaluations up to the target epoch): medians with "
        "min–max over the ok repeats (a repeat that missed the target counts as infinite). Ranked by "
        "time to target where the median repeat reached it, else by accuracy; overlapping intervals "
        "share a rank (tied). ★ marks the best median of each column.",
        ("leaderboard",),
        (lambda t, c: plots_config.leaderboard_figure(t["leaderboard"], c),),
    ),
    Section(
        "curves", "Learning curves",
        "Training loss and test accuracy per epoch: median over repeats with the interquartile band "
        "(DeepOBS style), then test accuracy against total wall time on a log axis (compilation + "
        "training + evaluations so far). Colour: optimizer; line style and marker: the next axis; "
        "more than eight series become small multiples.",
        ("learning_curves",),
        (lambda t, c: plots_config.curves_figure(t["learning_curves"], c),
         lambda t, c: plots_config.wall_curves_figure(t["learning_curves"], c)),
        in_markdown=False,
        per_epoch=True,
    ),
    Section(
        "learning_rates", "Learning rate per epoch",
        "The learning rate in force at each epoch's last update (learning_rate_in_force), per "
        "schedule (median over cases; the band and the min/max columns show where cases of one "
        "schedule differ). learning_rate, where shown, is the case's initial rate.",
        ("learning_rates",),
        (lambda t, c: plots.learning_rate_figure(t["learning_rates"]),),
        per_epoch=True,
    ),
    Section(
        "lr_sensitivity", "Learning-rate sensitivity",
        "Final test accuracy against the initial learning rate, one line per optimizer "
        "configuration that ran at several rates (whiskers: min–max over repeats).",
        ("lr_sensitivity",),
        (lambda t, c: plots_field.lr_sensitivity_figure(t["lr_sensitivity"], c),),
    ),
    Section(
        "throughput", "Throughput and step time",
        "Examples/s per configuration (median, min–max over repeats; nothing pooled across batch "
        "size, replicas or workers) with the speed-up over its matched baseline. step_ms_* are "
        "percentiles of single updates, given only where single updates were timed; chunk_ms_* are "
        "percentiles over chunk averages (engines that run K updates per host call), given only "
        "with enough chunks (p90: 10, p99: 100), else NaN with the reason in percentile_note. "
        "Profiled repeats are left out. achieved_flops_per_s is the model's FLOPs per training example "
        "(XLA's count of the step) x examples/s; flops_utilization divides it by the device's matmul "
        "rate measured by the run's peak probe (run.json peak_probe), see docs/workloads.md.",
        ("throughput",),
        (lambda t, c: plots_config.throughput_figure(t["throughput"], c),),
    ),
    Section(
        "scaling", "Strategy scaling",
        "Examples/s against replicas or workers per configuration, with the ideal line (the "
        "default strategy's examples/s × units) and the efficiency panel. speedup_vs_default is "
        "relative to the default strategy (no tf.distribute) of the same engine, device, batch "
        "size and optimizer in the same run (default_series names it); efficiency = "
        "speedup_vs_default / units; scaling_vs_1_unit compares a strategy with itself at one unit.",
        ("scaling",),
        (lambda t, c: plots_config.scaling_figure(t["scaling"], c),),
    ),
    Section(
        "profile", "Performance profile",
        "Dolan-Moré profile on a log₂ τ axis: for each optimizer, the fraction of problems on which "
        "its time to target is within τ × the best. A problem is a setting of every axis but the "
        "optimizer's own (label, learning rate), so adding a run adds problems and changes no "
        "existing ratio. score is AlgoPerf's: the area under ρ from τ = 1 to 4, over 3 (1: fastest "
        "everywhere). Problems a single optimizer ran on are named below and left out.",
        ("profile_scores", "profile_ratios"),
        (lambda t, c: plots_field.profile_figure(t["profile"], t["profile_scores"], c),),
    ),
    Section(
        "tradeoffs", "Accuracy, time and energy to target",
        "Final test accuracy against end-to-end time to target and against energy to target, and "
        "time against energy, per configuration (medians). The black step is the Pareto front "
        "(pareto_* columns): no other configuration is both at least as accurate and cheaper. "
        "Hollow markers: estimated energy.",
        ("tradeoffs",),
        (lambda t, c: plots_field.pareto_figure(t["tradeoffs"], c),),
    ),
    Section(
        "energy", "Energy",
        "Energy of the timed training updates per case (evaluation and compilation excluded; "
        "eval_energy_j is the evaluations' own) by source (CPU package, DRAM, GPU), with low/high "
        "bounds, J per example, mean and peak power, idle versus dynamic energy (measured only), "
        "energy to the target, and carbon and cost from the factors below. ≈ marks estimated "
        "values (hatched in the figures); the source table states which source produced each "
        "figure and why. benchmark_cpu_share is the benchmark's share of the machine's busy CPU "
        "time; energy_flag says when other processes ran. energy_validity says why a row's figures "
        "are not to be trusted (⚠: a window below its source's floor, a target reached before it, or a "
        "shared CPU); the legend below gives each source's floor.",
        ("energy_sources", "energy"),
        (lambda t, c: plots.energy_figure(t["energy"]),),
    ),
    Section(
        "power", "Power over time",
        "CPU and GPU power sampled over each case's whole measurement (compilation, training, "
        "evaluation and host work; the x axis starts when the case's collectors started), its training "
        "windows shaded (dashed: estimated). The table summarises each series over that whole span: "
        "samples, duration, period, mean and peak; the Energy section's figures cover the training "
        "windows only.",
        ("power_summary",),
        (lambda t, c: plots.power_figure(t["power"]),),
        in_markdown=False,
    ),
    Section(
        "ops", "Profiled ops",
        "Cases run with the TensorFlow profiler (harness run --profile): where the marked steps' time "
        "went (compute = an op kernel running, input = only batch gathering, idle = waiting inside a "
        "tf.function with no kernel running, host overhead = Python and eager dispatch), the op types "
        "with the most self time per update, and one op type x case table. The profiler slows the "
        "profiled steps down, so these repeats are left out of every timing table.",
        ("op_breakdown", "top_ops", "op_compare"),
        (plots.top_ops_figure,),
    ),
    Section(  # issue 25: harness/analysis/tuned.py, harness/report/tuned.py
        "tuned", "Tuned comparison", tuned.TEXT,
        ("tuned", "tuned_ranking", "tuned_trials"),
        (lambda t, c: tuned.sensitivity_figure(t["tuned_trials"], c),
         lambda t, c: tuned.expected_best_figure(t["tuned_expected"], c)),
    ),
)


# Columns the compact Markdown summary keeps (the HTML shows every column).
MARKDOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "leaderboard": ("rank", "tied", "series", "repeats", "reached", "time_to_target_s_median",
                    "time_to_target_s_min", "time_to_target_s_max", "wall_to_target_s_median",
                    "test_accuracy_median", "test_accuracy_min", "test_accuracy_max",
                    "energy_to_target_j_median", "energy_source", "samples_per_s_median"),
    "throughput": ("series", "rows", "samples_per_s_median", "samples_per_s_min", "samples_per_s_max",
                   "step_ms_p50", "step_ms_p99", "chunk_ms_p50", "chunk_ms_p90", "percentile_note",
                   "speedup_vs_baseline", "baseline_series"),
    "scaling": ("series", "parallel_units", "samples_per_s_median", "speedup_vs_default", "efficiency",
                "scaling_vs_1_unit"),
    "lr_sensitivity": ("series", "repeats", "test_accuracy_median", "test_accuracy_min", "test_accuracy_max"),
    "tradeoffs": ("series", "test_accuracy_median", "wall_to_target_s_median", "energy_to_target_j_median",
                  "energy_source", "pareto_energy", "pareto_time"),
    "energy": ("machine", "case_label", "cpu_energy_j", "cpu_energy_source", "gpu_energy_j",
               "gpu_energy_source", "energy_j", "energy_low_j", "energy_high_j", "energy_source",
               "energy_per_sample_j", "energy_to_target_j", "carbon_g", "carbon_low_g", "carbon_high_g", "cost",
               "energy_validity"),
    "learning_rates": ("series", "epoch", "cases", "learning_rate_in_force_median"),
    "profile_ratios": ("problem", "solver", "repeats", "time_to_target_s", "ratio"),
    "tuned": ("problem", "optimizer_label", "budget", "trial", "selected", "final_seeds",
              "validation_accuracy_median", "test_accuracy_median", "test_accuracy_min", "test_accuracy_max",
              "time_to_target_s_median", "tuning_wall_s", "tuneability", "rank", "versus"),
    "tuned_ranking": ("problem", "budget", "a", "b", "verdict", "p_better_holm", "p_worse_holm", "min_p_reachable"),
    "tuned_trials": ("problem", "optimizer_label", "trial", "learning_rate", "status", "validation_accuracy",
                     "winner"),
}
# how close a run comes to the device (issue 24): shown where the cost of the model is known
MARKDOWN_COLUMNS["throughput"] += ("achieved_flops_per_s_median", "flops_utilization_median")


def colours(tables: Mapping[str, pd.DataFrame]) -> dict[str, object]:
    """One colour per optimizer label over every table that has the column."""
    labels: set[str] = set()
    for df in tables.values():
        if "optimizer_label" in df.columns:
            labels.update(str(x) for x in df["optimizer_label"].dropna())
    return style.palette(labels)


def has_content(section: Section, tables: Mapping[str, pd.DataFrame]) -> bool:
    """A section with no rows in any of its tables is left out of the report (said in the header)."""
    return any(name in tables and not tables[name].empty for name in section.tables)


def notes(tables: Mapping[str, pd.DataFrame], key: str) -> list[tuple[str, str]]:
    """(level, text) of the notes the tables carry for section ``key``."""
    table = tables.get("notes")
    if table is None or table.empty:
        return []
    rows = table[table["section"] == key]
    return list(zip(rows["level"], rows["note"], strict=True))
