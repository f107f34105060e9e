"""VocalBaby: classify infant vocalizations into canonical, non_canonical, crying, laughing, junk.

The public API is this module's ``__all__``; everything else lives in submodules named for what
they hold (``audio``, ``features``, ``dataset``, ``model``, ``inference``, ``metrics``, ...).
Names are imported on first use, so ``import vocalbaby`` stays cheap.

>>> import vocalbaby as vb
>>> clip = vb.load_audio("clip.wav")  # doctest: +SKIP
>>> row = vb.extract_features([clip.samples])  # 88 named eGeMAPS columns  # doctest: +SKIP
>>> vb.ModelBundle.load("artifacts/models").predict(row)  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "CLASSES": ("vocalbaby.labels", "CLASSES"),
    "Audio": ("vocalbaby.audio", "Audio"),
    "AudioError": ("vocalbaby.audio", "AudioError"),
    "load_audio": ("vocalbaby.audio", "load"),
    "extract_features": ("vocalbaby.features", "extract"),
    "read_dataset": ("vocalbaby.dataset", "read"),
    "ModelBundle": ("vocalbaby.model", "ModelBundle"),
    "predict_files": ("vocalbaby.inference", "predict_files"),
    "uar_report": ("vocalbaby.metrics", "report"),
}
__all__ = [
    "CLASSES",
    "Audio",
    "AudioError",
    "ModelBundle",
    "__version__",
    "extract_features",
    "load_audio",
    "predict_files",
    "read_dataset",
    "uar_report",
]

if TYPE_CHECKING:
    from vocalbaby.audio import Audio, AudioError
    from vocalbaby.audio import load as load_audio
    from vocalbaby.dataset import read as read_dataset
    from vocalbaby.features import extract as extract_features
    from vocalbaby.inference import predict_files
    from vocalbaby.labels import CLASSES
    from vocalbaby.metrics import report as uar_report
    from vocalbaby.model import ModelBundle


def __getattr__(name: str) -> object:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'vocalbaby' has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
