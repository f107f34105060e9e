"""``python -m vocalbaby_cli``: the ``vocalbaby`` command."""

from vocalbaby_cli.app import app

app()
