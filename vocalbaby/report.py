"""Self-contained HTML reports: one file, tables and base64-embedded PNGs, readable anywhere."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from vocalbaby import storage

Block = str | bytes | pd.DataFrame
"""A paragraph (text), a PNG image (bytes) or a table (DataFrame)."""

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
img { max-width: 100%; }
.note { color: #555; font-size: 0.9rem; }
"""


def render_block(block: Block) -> str:
    """One block as HTML."""
    if isinstance(block, bytes):
        encoded = base64.b64encode(block).decode()
        return f'<p><img alt="figure" src="data:image/png;base64,{encoded}"></p>'
    if isinstance(block, pd.DataFrame):
        return block.to_html(float_format=lambda v: f"{v:.3f}", na_rep="-", border=0)
    return f"<p>{html.escape(block)}</p>"


def render(title: str, sections: Sequence[tuple[str, Sequence[Block]]], note: str = "") -> str:
    """A complete HTML page: a title, an optional note, then headed sections of blocks."""
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"<h1>{html.escape(title)}</h1>", f'<p class="note">Generated {created}.</p>']
    if note:
        body.append(f'<p class="note"><strong>{html.escape(note)}</strong></p>')
    for heading, blocks in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        body.extend(render_block(block) for block in blocks)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>\n{chr(10).join(body)}\n</body></html>\n"
    )


def write(
    uri: str, title: str, sections: Sequence[tuple[str, Sequence[Block]]], note: str = ""
) -> str:
    """Write :func:`render`'s page to ``uri`` (a path or ``s3://`` key) and return ``uri``."""
    storage.write_bytes(uri, render(title, sections, note).encode())
    return uri


# --- tables shared by reports and asset metadata -----------------------------------------------


def per_class_table(result: dict[str, object]) -> pd.DataFrame:
    """Recall (with its interval when the report has ``intervals``), precision, F1, support."""
    table = pd.DataFrame(result["per_class"]).T[["recall", "precision", "f1", "support"]]
    table.loc[table["support"] == 0, "recall"] = np.nan  # undefined without clips of the class
    found = result.get("intervals")
    if found:
        bounds = {c: v or {"low": None, "high": None} for c, v in found["recall"].items()}
        table.insert(1, "recall low", [bounds[c]["low"] for c in table.index])
        table.insert(2, "recall high", [bounds[c]["high"] for c in table.index])
    return table.astype({"support": int})


def scores_table(reports: dict[str, dict]) -> pd.DataFrame:
    """UAR, macro-F1, accuracy and per-class recall of several reports side by side."""
    rows = {
        name: {
            "UAR": r["uar"],
            "macro-F1": r["macro_f1"],
            "accuracy": r["accuracy"],
            **{f"recall {c}": m["recall"] for c, m in r["per_class"].items()},
        }
        for name, r in reports.items()
    }
    return pd.DataFrame(rows).T


def gate_table(gate: dict[str, object]) -> pd.DataFrame:
    """Each gate criterion with its value, threshold and outcome."""
    return pd.DataFrame(gate["criteria"]).set_index("criterion")


def interval_text(name: str, found: dict[str, float], level: float) -> str:
    """``UAR 0.812 (95% CI 0.744-0.873)``."""
    return (
        f"{name} {found['estimate']:.3f} ({round(100 * level)}% CI "
        f"{found['low']:.3f}-{found['high']:.3f})"
    )


def evaluation_sections(
    evaluation: dict[str, object], figures: dict[str, bytes]
) -> list[tuple[str, list[Block]]]:
    """The sections of a model's evaluation report (``model_evaluation``'s value and figures)."""
    result, gate = evaluation["metrics"], evaluation["gate"]
    found = result["intervals"]
    verdict = "PASSED" if gate["passed"] else "FAILED: " + "; ".join(gate["reasons"])
    calibration = evaluation["calibration"]
    return [
        (
            "Summary",
            [
                f"Model {evaluation['model_version']} on the {evaluation['split']} split: "
                f"{result['n']} clips of {found['n_groups']} children. "
                + interval_text("UAR", found["uar"], found["level"])
                + "; "
                + interval_text("macro-F1", found["macro_f1"], found["level"])
                + f"; accuracy {result['accuracy']:.3f}.",
                f"Promotion gate {verdict}.",
                gate_table(gate),
                *(
                    ["Not judged (absent from the test split): " + ", ".join(gate["not_judged"])]
                    if gate.get("not_judged")
                    else []
                ),
            ],
        ),
        (
            "Per-class scores with child-bootstrap intervals",
            [
                f"Intervals: percentile bootstrap, children resampled {found['n_boot']} times.",
                per_class_table(result),
                figures["intervals"],
            ],
        ),
        (
            "Baselines on the same split",
            [
                scores_table({"model": result} | evaluation["baselines"]),
                interval_text(
                    "UAR of the model minus the ComParE recipe's",
                    evaluation["difference_to_compare_recipe"],
                    found["level"],
                )
                + ", children resampled together for both (paired bootstrap).",
            ],
        ),
        (
            "Confusion matrices",
            [figures["confusion_matrix"], figures["confusion_matrix_normalized"]],
        ),
        ("Precision-recall curves (one class against the rest)", [figures["pr_curves"]]),
        (
            "Calibration",
            [
                f"Expected calibration error {calibration['ece']:.3f} with temperature "
                f"{calibration['temperature']:.3f} (uncalibrated: "
                f"{calibration['ece_uncalibrated']:.3f}).",
                figures["reliability"],
            ],
        ),
        (
            "Breakdowns by corpus, age band and gender",
            [
                block
                for name, table in evaluation["breakdowns"].items()
                for block in (f"By {name}:", table.set_index(name))
            ]
            + ["Worst groups (lowest UAR):", evaluation["worst_groups"]],
        ),
    ]
