"""eGeMAPSv02 functionals (88 named features per signal) computed with openSMILE.

Other openSMILE functional sets (:data:`FEATURE_SETS`, e.g. ComParE_2016's 6373) are selectable
per call with ``feature_set``; eGeMAPSv02 is the default everywhere.

This is the only feature code in VocalBaby: the pipeline and the service both call it, so a
clip gets the same features in training and in serving.

Speed: ``opensmile.Smile`` builds and frees a whole openSMILE engine for every call. Here
engines are pooled and reset between signals (``smile_reset``), which skips the configuration
parsing and teardown while giving bit-identical output, and they run opensmile's config without
the components that feed no functional (:mod:`vocalbaby.smile_config`; about 12 % less CPU per
0.4 s clip, still bit-identical). A single signal's engine is reset in the background, so a
request does not wait for it; a batch goes to the executor in chunks of up to
:data:`BATCH_SIGNALS` signals, each engine reset in its worker thread. openSMILE runs outside
the GIL, so threads use every core.

Why not many clips per engine run (issue 17): the reset rebuilds every component (about a third
of a 0.4 s clip's cost), but openSMILE's low-level descriptors are not independent per clip in a
concatenated stream: with 0.5 s or 2 s of silence between clips (hop-aligned), the first and
last 1-3 frames of most levels differ from a run of the clip alone (3-frame smoothing, Viterbi
pitch smoothing, spectral flux, partial frames at the end of input) and the jitter, shimmer,
HNR and formant level differs on every frame of most clips, so segment-wise functionals cannot
equal per-clip ones. Several copies of the graph in one engine (one clip each, one reset for
all) give identical features but cost more per clip, not less.

Memory is bounded by design: one process-wide executor of :func:`extraction_threads` threads
runs every caller's work, and the pool never holds more engines than there are threads.

>>> from vocalbaby import features
>>> row = features.extract_one(np.zeros(6400, dtype=np.float32))  # doctest: +SKIP
>>> row.shape  # doctest: +SKIP
(88,)
"""

from __future__ import annotations

import functools
import itertools
import os
import queue
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import opensmile
import pandas as pd
from opensmile.core.config import config as smile_paths
from opensmile.core.lib import OpenSMILE, OpenSmileException

from vocalbaby import audio, smile_config
from vocalbaby.audio import SAMPLE_RATE

FEATURE_SETS: dict[str, opensmile.FeatureSet] = {
    "eGeMAPSv02": opensmile.FeatureSet.eGeMAPSv02,
    "ComParE_2016": opensmile.FeatureSet.ComParE_2016,
}
DEFAULT_FEATURE_SET = "eGeMAPSv02"
FEATURE_SET = FEATURE_SETS[DEFAULT_FEATURE_SET]
FEATURE_LEVEL = opensmile.FeatureLevel.Functionals

Progress = Callable[[int, int], None]
T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """Extraction stopped at its deadline; the signals not started were never extracted."""


class FeatureError(RuntimeError):
    """Feature extraction failed for one or more signals; ``failures`` maps key to reason."""

    def __init__(self, failures: Mapping[Hashable, str]) -> None:
        shown = "; ".join(f"{k}: {v}" for k, v in list(failures.items())[:10])
        more = f" (and {len(failures) - 10} more)" if len(failures) > 10 else ""
        super().__init__(f"feature extraction failed for {len(failures)} signal(s): {shown}{more}")
        self.failures = dict(failures)


@dataclass
class ExtractionResult:
    """Features of the signals that succeeded, and the reason for each that failed."""

    features: pd.DataFrame
    failures: dict[Hashable, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Signals processed per second of wall time."""
        done = len(self.features) + len(self.failures)
        return done / self.seconds if self.seconds > 0 else float("nan")


def _checked(feature_set: str) -> str:
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; known: {', '.join(FEATURE_SETS)}")
    return feature_set


@functools.cache
def _smile(feature_set: str) -> opensmile.Smile:
    return opensmile.Smile(
        feature_set=FEATURE_SETS[_checked(feature_set)], feature_level=FEATURE_LEVEL
    )


@functools.cache
def _names(feature_set: str) -> tuple[str, ...]:
    return tuple(_smile(feature_set).feature_names)


def feature_names(feature_set: str = DEFAULT_FEATURE_SET) -> tuple[str, ...]:
    """The functional names of ``feature_set`` (eGeMAPSv02: 88), in column order."""
    return _names(feature_set)


def extractor_config(feature_set: str = DEFAULT_FEATURE_SET) -> dict[str, object]:
    """What produced the features; stored with every model so serving can check it matches."""
    return {
        "library": "opensmile",
        "opensmile_version": opensmile.__version__,
        "feature_set": FEATURE_SETS[_checked(feature_set)].name,
        "feature_level": FEATURE_LEVEL.value,
        "sample_rate": SAMPLE_RATE,
        "input": "mono float32 in [-1, 1], quantised to int16 as opensmile.Smile does",
        "num_features": len(feature_names(feature_set)),
    }


class _Engine:
    """One initialised openSMILE engine of ``feature_set``, reused by resetting it.

    It runs opensmile's config for the set without the components that feed no functional
    (:mod:`vocalbaby.smile_config`): same output, less work per signal and per reset.
    """

    def __init__(self, feature_set: str = DEFAULT_FEATURE_SET, pruned: bool = True) -> None:
        self.feature_set = feature_set
        smile = _smile(feature_set)
        options = smile._options()
        options["source"] = os.path.join(
            smile.default_config_root, smile_paths.EXTERNAL_INPUT_CONFIG
        )
        options["sampleRate"] = SAMPLE_RATE
        options["nBits"] = 16
        self._engine = OpenSMILE()
        config = smile.config_path
        self._engine.initialize(
            config_file=smile_config.pruned(config, options["sinkLevel"]) if pruned else config,
            options=options,
            loglevel=smile.loglevel,
            log_file=smile.logfile,
            debug=smile.verbose,
        )
        self._rows: list[np.ndarray] = []

    def _collect(self, data: np.ndarray, _meta: object) -> None:
        self._rows.append(data[0].copy())

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        engine = self._engine
        self._rows.clear()
        engine._callbacks.clear()  # callbacks must be registered again after every reset
        engine.external_sink_set_callback_ex(smile_paths.EXTERNAL_OUTPUT_COMPONENT, self._collect)
        pcm = (np.asarray(samples, dtype=np.float32) * 32768).astype(np.int16)
        engine.external_audio_source_write_data(
            smile_paths.EXTERNAL_SOURCE_COMPONENT, pcm.tobytes()
        )
        engine.external_audio_source_set_eoi(smile_paths.EXTERNAL_SOURCE_COMPONENT)
        engine.run()
        if not self._rows:
            raise ValueError("openSMILE produced no functionals (signal too short)")
        return self._rows[-1].astype(np.float32)

    def reset(self) -> None:
        """Make the engine ready for the next signal (openSMILE rebuilds its components)."""
        self._engine.reset()


THREADS_ENV = "VOCALBABY_EXTRACT_THREADS"


@functools.cache
def extraction_threads() -> int:
    """Feature-extraction threads of this process: ``VOCALBABY_EXTRACT_THREADS`` [CPU count]."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return os.cpu_count() or 1
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{THREADS_ENV}={raw!r} must be a positive integer")
    return int(raw)


class EnginePool:
    """At most ``size`` openSMILE engines (about 6 MB each), made on demand and kept.

    A borrower takes an idle engine, makes one while fewer than ``size`` exist, or waits for
    one. After use the engine is reset (a third of a 0.4 s clip's cost) and returned: in the
    background for a single signal, off the caller's critical path, or in the borrowing thread
    for the signals of a batch. ``pruned=False`` runs opensmile's full config (for comparisons).
    """

    def __init__(
        self, size: int, feature_set: str = DEFAULT_FEATURE_SET, pruned: bool = True
    ) -> None:
        self.size = size
        self.feature_set = _checked(feature_set)
        self.pruned = pruned
        self._idle: queue.SimpleQueue[_Engine] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._created = 0
        self._resetter = ThreadPoolExecutor(max_workers=size, thread_name_prefix="smile-reset")

    @property
    def created(self) -> int:
        """Engines made so far (never more than ``size``)."""
        return self._created

    def _take(self) -> _Engine:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            make = self._created < self.size
            self._created += make
        if not make:
            return self._idle.get()
        try:
            return _Engine(self.feature_set, self.pruned)
        except BaseException:
            with self._lock:
                self._created -= 1
            raise

    def _reset_and_return(self, engine: _Engine) -> None:
        """Reset ``engine`` and return it; one openSMILE cannot reset is replaced by a new one."""
        try:
            engine.reset()
        except OpenSmileException:
            engine = _Engine(self.feature_set, self.pruned)
        self._idle.put(engine)

    @contextmanager
    def borrow(self, background: bool = True) -> Iterator[_Engine]:
        """An engine for one signal; it goes back to the pool (reset) afterwards, ``background``
        or before this returns."""
        engine = self._take()
        try:
            yield engine
        finally:
            if background:
                self._resetter.submit(self._reset_and_return, engine)
            else:
                self._reset_and_return(engine)


@functools.cache
def _engine_pool(feature_set: str) -> EnginePool:
    return EnginePool(extraction_threads(), feature_set)


def engine_pool(feature_set: str = DEFAULT_FEATURE_SET) -> EnginePool:
    """The process-wide engine pool of ``feature_set``: at most one engine per extraction thread."""
    return _engine_pool(_checked(feature_set))


@functools.cache
def executor() -> ThreadPoolExecutor:
    """The process-wide extraction executor, shared by every caller (requests, batches)."""
    return ThreadPoolExecutor(max_workers=extraction_threads(), thread_name_prefix="opensmile")


def _extract(samples: np.ndarray, feature_set: str, background: bool) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1 or samples.size == 0:
        raise ValueError(f"expected a non-empty 1-D signal, got shape {samples.shape}")
    with engine_pool(feature_set).borrow(background) as engine:
        row = engine(samples)
    if not np.isfinite(row).any():
        raise ValueError("openSMILE returned no finite feature value")
    return row


def extract_one(samples: np.ndarray, feature_set: str = DEFAULT_FEATURE_SET) -> np.ndarray:
    """The features of one 16 kHz mono float32 signal; raises ``ValueError`` on failure.

    The engine is reset in the background, so a single request does not wait for it.
    """
    return _extract(samples, feature_set, background=True)


def _safe_extract(samples: np.ndarray, feature_set: str) -> np.ndarray | str:
    """A batch signal's features (engine reset in this thread), or the reason they failed."""
    try:
        return _extract(samples, feature_set, background=False)
    except ValueError as exc:
        return str(exc)


BATCH_SIGNALS = 8  # most signals of one call per executor task (about 80 ms of 0.4 s clips)


def _run_chunk(
    chunk: list[tuple[Hashable, T]],
    work: Callable[[T], np.ndarray | str],
    deadline: float | None,
) -> list[tuple[Hashable, np.ndarray | str]]:
    """``work`` over the items of ``chunk`` in turn, starting none past ``deadline``."""
    done = []
    for key, item in chunk:
        if deadline is not None and time.monotonic() > deadline:
            break
        done.append((key, work(item)))
    return done


def _chunks(items: Mapping[Hashable, T], size: int) -> Iterator[list[tuple[Hashable, T]]]:
    todo = iter(items.items())
    while chunk := list(itertools.islice(todo, size)):
        yield chunk


def _run(
    items: Mapping[Hashable, T],
    work: Callable[[T], np.ndarray | str],
    workers: int | None,
    progress: Progress | None,
    deadline: float | None = None,
    feature_set: str = DEFAULT_FEATURE_SET,
) -> ExtractionResult:
    """``work`` (a feature row, or the reason it failed) over every item on the shared executor.

    Items go to the executor in chunks of up to :data:`BATCH_SIGNALS` (smaller for small
    calls, so every thread gets some), which saves a task hand-off and a background reset per
    signal while keeping a thread busy for a short time only. At most ``workers`` chunks of this
    call are queued or running at once (default and maximum: the extraction threads), so
    concurrent callers share the threads in turn. Past ``deadline`` (a :func:`time.monotonic`
    value) nothing more is started and :class:`DeadlineExceeded` is raised. The result's columns
    are ``feature_set``'s names.
    """
    in_flight = max(1, min(workers or extraction_threads(), extraction_threads()))
    size = min(BATCH_SIGNALS, max(1, len(items) // (4 * in_flight)))
    results: dict[Hashable, np.ndarray | str] = {}
    started = time.perf_counter()
    pending: set[Future[list[tuple[Hashable, np.ndarray | str]]]] = set()
    todo = _chunks(items, size)
    try:
        while True:
            if deadline is not None and time.monotonic() > deadline:
                raise DeadlineExceeded(
                    f"{len(results)} of {len(items)} signals done by the deadline"
                )
            for chunk in itertools.islice(todo, in_flight - len(pending)):
                pending.add(executor().submit(_run_chunk, chunk, work, deadline))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                for key, result in future.result():
                    results[key] = result
                    if progress:
                        progress(len(results), len(items))
    finally:
        for future in pending:
            future.cancel()
    rows = {k: results[k] for k in items if not isinstance(results[k], str)}
    failures = {k: r for k in items if isinstance(r := results[k], str)}
    frame = pd.DataFrame(
        np.vstack(list(rows.values())) if rows else np.empty((0, len(feature_names(feature_set)))),
        index=pd.Index(list(rows), name="key"),
        columns=list(feature_names(feature_set)),
        dtype=np.float32,
    )
    return ExtractionResult(frame, failures, time.perf_counter() - started)


def extract_batch(
    signals: Mapping[Hashable, np.ndarray] | Sequence[np.ndarray],
    workers: int | None = None,
    progress: Progress | None = None,
    deadline: float | None = None,
    feature_set: str = DEFAULT_FEATURE_SET,
) -> ExtractionResult:
    """Features of many signals in parallel; failures are collected, never turned into zeros.

    ``signals`` maps a key (clip id) to samples, or is a sequence (keys are positions);
    ``feature_set`` is one of :data:`FEATURE_SETS`.
    ``progress(done, total)`` is called from the calling thread after each signal. Past
    ``deadline`` (:func:`time.monotonic`) it stops, raising :class:`DeadlineExceeded`.
    """
    items = dict(signals) if isinstance(signals, Mapping) else dict(enumerate(signals))
    _checked(feature_set)
    work = functools.partial(_safe_extract, feature_set=feature_set)
    return _run(items, work, workers, progress, deadline, feature_set)


def extract(
    signals: Mapping[Hashable, np.ndarray] | Sequence[np.ndarray],
    workers: int | None = None,
    progress: Progress | None = None,
    feature_set: str = DEFAULT_FEATURE_SET,
) -> pd.DataFrame:
    """Like :func:`extract_batch`, but raises :class:`FeatureError` if any signal failed."""
    result = extract_batch(signals, workers=workers, progress=progress, feature_set=feature_set)
    if result.failures:
        raise FeatureError(result.failures)
    return result.features


def deviation(reference: pd.DataFrame, other: pd.DataFrame) -> pd.Series:
    """Per feature, the largest ``|other - reference|`` over the rows of ``reference``, in units
    of that feature's standard deviation in ``reference``: 0 where equal (NaN matching NaN),
    ``inf`` where a constant feature differs or only one side is NaN."""
    other = other.loc[reference.index, reference.columns].astype(np.float64)
    reference = reference.astype(np.float64)
    diff = (other - reference).abs().mask(other.isna() & reference.isna(), 0.0).fillna(np.inf)
    largest = diff.max()
    return (largest / reference.std(ddof=0)).where(largest > 0, 0.0).fillna(np.inf)


def extract_files(
    sources: Mapping[Hashable, audio.AudioSource],
    workers: int | None = None,
    progress: Progress | None = None,
    transform: Callable[[Hashable, np.ndarray], np.ndarray] | None = None,
    feature_set: str = DEFAULT_FEATURE_SET,
) -> ExtractionResult:
    """Decode every file (:func:`vocalbaby.audio.load`) and extract its features, in parallel.

    ``sources`` maps a key (clip id, audio hash) to a path, ``s3://`` URI or bytes. A file that
    cannot be decoded or gives no features is in ``failures`` with the reason, never zeros.
    ``transform(key, samples)`` changes each decoded signal first. Each worker holds one signal
    at a time, so memory does not grow with the number of files. The pipeline, the ``evaluate``
    command, drift and the benchmarks all decode and extract through this function.
    """

    def work(item: tuple[Hashable, audio.AudioSource]) -> np.ndarray | str:
        key, source = item
        try:
            samples = audio.load(source).samples
        except audio.AudioError as exc:
            return exc.reason
        return _safe_extract(transform(key, samples) if transform else samples, feature_set)

    _checked(feature_set)
    items = {key: (key, source) for key, source in sources.items()}
    return _run(items, work, workers, progress, feature_set=feature_set)
