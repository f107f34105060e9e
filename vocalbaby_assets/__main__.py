"""``python -m vocalbaby_assets``: the pipeline CLI."""

from vocalbaby_assets.cli import app

app()
