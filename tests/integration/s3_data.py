"""Putting a demo dataset into an S3 bucket for the tests."""

from pathlib import Path

import pandas as pd


def upload_demo(client, bucket: str, demo_dataset: Path, clips: int) -> None:
    """The first ``clips`` clips of ``demo_dataset`` and their metadata under ``babble/``."""
    meta = pd.read_csv(demo_dataset / "metadata.csv").head(clips)
    client.put_object(
        Bucket=bucket, Key="babble/metadata.csv", Body=meta.to_csv(index=False).encode()
    )
    for rel in meta["path"]:
        client.put_object(
            Bucket=bucket, Key=f"babble/{rel}", Body=(demo_dataset / rel).read_bytes()
        )
