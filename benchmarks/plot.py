"""The plot of a suite: objective gap against wall time, one line per tool and solver."""

from __future__ import annotations

from measures import TARGET_GAP

FLOOR = 1e-16
"""Gaps below this (exactly the best run, or rounding) are drawn at it."""
MEASURES = ("optimum", "store")
STYLES = {"gdd-dask": ("-", "o"), "scikit-learn": ("--", "s"), "dask-ml": (":", "^")}


def panels(rows):
    """``{(problem, measure): rows}`` of the rows that have a path, in order."""
    found = {}
    for row in rows:
        if row["measure"] in MEASURES and row.get("trajectory"):
            found.setdefault((row["problem"], row["measure"]), []).append(row)
    return found


def plot(rows, path):
    """Write the PNG at ``path``: a panel per problem and measurement, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = panels(rows)
    fig, axes = plt.subplots(1, len(groups), figsize=(7 * len(groups), 8), squeeze=False)
    colors = plt.get_cmap("tab20").colors[0::2] + plt.get_cmap("tab20").colors[1::2]
    for ax, ((problem, measure), group) in zip(axes[0], groups.items()):
        for i, row in enumerate(group):
            seconds = [t for t, _ in row["trajectory"]]
            gaps = [max(g, FLOOR) for _, g in row["trajectory"]]
            line, marker = STYLES.get(row["tool"], ("-", "o"))
            ax.plot(seconds, gaps, line, marker=marker, markersize=4,
                    color=colors[i % len(colors)],
                    label=f"{row['tool']} {row['solver']} ({row['config']})")
        ax.axhline(TARGET_GAP, color="grey", linewidth=0.8)
        ax.set(xscale="log", yscale="log", xlabel="wall time (s)",
               ylabel="relative objective gap (f - f*) / |f*|",
               title=f"{problem}: {measure}")
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
        ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
