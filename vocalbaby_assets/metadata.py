"""Helpers that turn results into Dagster metadata (markdown tables, embedded PNGs)."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import pandas as pd
from dagster import MetadataValue


def png_markdown(png: bytes, alt: str) -> MetadataValue:
    """A PNG shown inline in the Dagster UI (``MetadataValue`` has no image type)."""
    encoded = base64.b64encode(png).decode()
    return MetadataValue.md(f"![{alt}](data:image/png;base64,{encoded})")


def table_markdown(frame: pd.DataFrame, floatfmt: str = ".3f") -> MetadataValue:
    """A DataFrame as a markdown table."""
    return MetadataValue.md(frame.to_markdown(floatfmt=floatfmt))


def counts_markdown(counts: Mapping[str, Mapping[str, int]]) -> MetadataValue:
    """Nested counts (e.g. split -> class -> clips) as a markdown table."""
    return table_markdown(pd.DataFrame(counts).fillna(0).astype(int), floatfmt="d")
