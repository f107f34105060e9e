"""Report files (HTML, CSV, JSON, PNG) under ``<artifacts>/reports``, shared by the assets."""

from vocalbaby import storage
from vocalbaby_assets.resources import VocalBabySettings

SYNTHETIC_NOTE = "SYNTHETIC demo data, not real infant audio."


def write_reports(
    settings: VocalBabySettings, name: str, files: dict[str, bytes]
) -> dict[str, str]:
    """Store ``name.<ext>`` files under the reports location and return their URIs by ext."""
    uris = {ext: storage.join(settings.locations.reports, f"{name}.{ext}") for ext in files}
    for ext, data in files.items():
        storage.write_bytes(uris[ext], data)
    return uris


def note(settings: VocalBabySettings) -> str:
    """The synthetic-data warning for the demo set, else nothing."""
    return SYNTHETIC_NOTE if settings.is_demo else ""
