"""Plots shown as asset metadata."""

from __future__ import annotations

import io

import pandas as pd


def optimisation_history_png(trials: pd.DataFrame) -> bytes:
    """Each trial's CV UAR and the best so far, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = trials.dropna(subset=["value"])
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.scatter(done["number"], done["value"], s=14, label="trial")
    ax.plot(done["number"], done["value"].cummax(), color="C1", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("grouped CV UAR")
    ax.legend(loc="lower right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()
