"""The report's sections: title, what each shows, its figure and the tables behind it.

HTML and Markdown both walk :data:`SECTIONS`, so the two formats never disagree
about what a section contains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from harness.report import plots

Figure = Callable[[Mapping[str, pd.DataFrame], Mapping[str, object]], bytes | None]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    text: str
    tables: tuple[str, ...]
    figures: tuple[Figure, ...] = ()
    in_markdown: bool = True
    energy: bool = False  # part of the energy report
    per_epoch: bool = False  # its tables have a row per epoch: folded under the figure in HTML


SECTIONS: tuple[Section, ...] = (
    Section(
        "leaderboard", "Optimizer leaderboard",
        "Final test accuracy (mean ± sample std over the ok repeats), time and energy to the "
        "target accuracy (mean over the repeats that reached it) and examples/s, one row per "
        "configuration. Ordered: reached the target first (fastest first), then by accuracy. "
        "★ marks the best value of each column.",
        ("leaderboard",),
        (lambda t, c: plots.leaderboard_figure(t["leaderboard"], c),),
    ),
    Section(
        "curves", "Learning curves",
        "Training loss and test accuracy per epoch (mean over repeats), and test accuracy "
        "against cumulative training time. One colour per optimizer in every figure.",
        ("learning_curves",),
        (lambda t, c: plots.curves_figure(t["learning_curves"], c),),
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
        "throughput", "Throughput and step time",
        "Examples/s and time per update (p50/p90/p99) by engine, strategy, device and precision, "
        "with the speed-up over the baseline group (marked). Timings of profiled repeats are "
        "left out.",
        ("throughput",),
        (lambda t, c: plots.throughput_figure(t["throughput"]),),
    ),
    Section(
        "scaling", "Strategy scaling",
        "Examples/s against replicas or workers per strategy. Speed-up and efficiency are relative "
        "to the default strategy (no tf.distribute) on one device of the same machine, device and "
        "engine; scaling_vs_1_unit compares a strategy with itself at one replica or worker.",
        ("scaling",),
        (lambda t, c: plots.scaling_figure(t["scaling"]),),
    ),
    Section(
        "profile", "Performance profile",
        "Dolan-Moré profile: for each optimizer, the fraction of problems (settings of every "
        "other axis) on which its time to target is within a factor τ of the best optimizer's. "
        "ρ(1) is the share of problems an optimizer won; a curve that never reaches 1 did not "
        "reach the target everywhere. The table lists the times and ratios per problem.",
        ("profile_ratios",),
        (lambda t, c: plots.profile_figure(t["profile"], c),),
    ),
    Section(
        "energy", "Energy",
        "Energy of the timed training updates per case (evaluation and compilation excluded; "
        "eval_energy_j is the evaluations' own) by source (CPU package, DRAM, GPU), with low/high "
        "bounds, J per example, mean and peak power, idle versus dynamic energy (measured only), "
        "energy to the target, and carbon and cost from the factors below. ≈ marks estimated "
        "values (hatched in the figures); the source table states which source produced each "
        "figure and why. benchmark_cpu_share is the benchmark's share of the machine's busy CPU "
        "time; energy_flag says when other processes ran.",
        ("energy_sources", "energy"),
        (lambda t, c: plots.energy_figure(t["energy"]),),
        energy=True,
    ),
    Section(
        "power", "Power over time",
        "CPU and GPU power sampled during each case's training window (dashed: estimated). "
        "The table summarises each series: samples, duration, period, mean and peak.",
        ("power_summary",),
        (lambda t, c: plots.power_figure(t["power"]),),
        in_markdown=False,
        energy=True,
    ),
)

# The profiling section lives with its tables; it imports Section from here.
from harness.report.ops_section import SECTION as _OPS_SECTION  # noqa: E402

SECTIONS = (*SECTIONS, _OPS_SECTION)

# Columns the compact Markdown summary keeps (the HTML shows every column).
MARKDOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "leaderboard": ("rank", "optimizer_label", "schedule_label", "engine", "strategy", "device",
                    "precision", "batch_size", "machine", "repeats", "test_accuracy_mean",
                    "test_accuracy_std", "time_to_target_s_mean", "energy_to_target_j_mean",
                    "energy_source", "samples_per_s_mean"),
    "energy": ("machine", "case_label", "cpu_energy_j", "cpu_energy_source", "gpu_energy_j",
               "gpu_energy_source", "energy_j", "energy_low_j", "energy_high_j", "energy_source",
               "energy_per_sample_j", "energy_to_target_j", "carbon_g", "cost", "energy_flag"),
    "learning_rates": ("series", "epoch", "cases", "learning_rate_in_force_median"),
    "profile_ratios": ("problem", "optimizer_label", "time_to_target_s", "ratio"),
}


def colours(tables: Mapping[str, pd.DataFrame]) -> dict[str, object]:
    """One colour per optimizer label over every table that has the column."""
    labels: set[str] = set()
    for df in tables.values():
        if "optimizer_label" in df.columns:
            labels.update(str(x) for x in df["optimizer_label"].dropna())
    return plots.palette(labels)
