"""A bounded queue of classification jobs run one at a time by a worker thread.

Uploads are classified in the order they arrive; at most ``max_pending`` wait (a further upload
gets :class:`QueueFull`, which the app answers with 429), and only the last ``keep`` finished
jobs are remembered, so memory stays bounded however long the studio runs.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field


class QueueFull(RuntimeError):
    """Too many uploads are waiting to be classified."""


@dataclass
class Job:
    """One uploaded file on its way to the timeline."""

    id: str
    file: str
    state: str = "queued"  # queued, running, done, failed
    recording: str | None = None
    error: str | None = None
    submitted: float = 0.0
    started: float | None = None
    finished: float | None = None
    meta: dict[str, object] = field(default_factory=dict)  # child_id, age_months given

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form with the seconds spent so far."""
        end = self.finished or time.time()
        return asdict(self) | {
            "seconds": round(end - (self.started or self.submitted), 3),
            "waited_s": round((self.started or end) - self.submitted, 3),
        }


class JobQueue:
    """Runs ``work(job)`` (returning the new recording's id) for each submitted job, in order."""

    def __init__(self, work: Callable[[Job], str], max_pending: int = 8, keep: int = 200) -> None:
        self._work = work
        self._pending: queue.Queue[Job] = queue.Queue(maxsize=max_pending)
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        threading.Thread(target=self._run, name="studio-jobs", daemon=True).start()

    def full(self) -> bool:
        """Whether a submission now would be refused."""
        return self._pending.full()

    def submit(self, file: str, meta: dict[str, object] | None = None) -> Job:
        """Queue a job for ``file``; raises :class:`QueueFull` when the queue is full."""
        with self._lock:
            job = Job(f"job-{next(self._ids)}", file, submitted=time.time(), meta=meta or {})
            try:
                self._pending.put_nowait(job)
            except queue.Full:
                raise QueueFull(
                    f"{self._pending.maxsize} uploads are waiting; retry later"
                ) from None
            self._jobs[job.id] = job
            self._forget_old()
        return job

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.state in {"done", "failed"}]
        for key in finished[: max(0, len(self._jobs) - self._keep)]:
            del self._jobs[key]

    def jobs(self) -> list[dict[str, object]]:
        """Every remembered job, oldest first, with the queued ones' positions."""
        with self._lock:
            queued = [j for j in self._jobs.values() if j.state == "queued"]
            position = {j.id: i + 1 for i, j in enumerate(queued)}
            return [j.to_dict() | {"position": position.get(j.id)} for j in self._jobs.values()]

    def _run(self) -> None:
        while True:
            job = self._pending.get()
            job.state, job.started = "running", time.time()
            try:
                job.recording = self._work(job)
                job.state = "done"
            except Exception as exc:  # a failed job reports why; the worker goes on
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            job.finished = time.time()
