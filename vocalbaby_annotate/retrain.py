"""Start the Dagster training job from the studio, through Dagster's GraphQL API.

Configured with the Dagster webserver's URL (``--dagster`` / ``$VOCALBABY_DAGSTER_URL``); without
one, or without the ``dagster-graphql`` client (installed with the ``pipeline`` extra), retraining
is disabled and ``GET /api/retrain`` says why.

- ``GET /api/retrain``: ``{"enabled", "message", "job", "dagster_url"}``.
- ``POST /api/retrain``: submit the job; 202 with the run id and its page in the Dagster UI.
- ``GET /api/retrain/{run_id}``: the run's status (QUEUED, STARTED, SUCCESS, FAILURE, ...).
"""

from __future__ import annotations

import importlib
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

DAGSTER_URL_ENV = "VOCALBABY_DAGSTER_URL"
DEFAULT_JOB = "train_job"
RUN_ID = re.compile(r"[0-9a-f-]{36}")


class Retrain:
    """Handlers over one Dagster webserver, or disabled ones when there is none."""

    def __init__(self, dagster_url: str | None, job: str = DEFAULT_JOB) -> None:
        self.url = dagster_url.rstrip("/") if dagster_url else None
        self.job = job
        self.client: Any = None
        self.reason = ""
        if not self.url:
            self.reason = (
                f"No Dagster instance is configured: start the studio with --dagster URL (or set "
                f"${DAGSTER_URL_ENV}), e.g. http://127.0.0.1:3001 from `make dev`."
            )
            return
        try:
            graphql = importlib.import_module("dagster_graphql")
        except ImportError:
            self.reason = (
                "Retraining needs the Dagster GraphQL client: pip install 'vocalbaby[pipeline]'."
            )
            return
        parts = urlsplit(self.url)
        self.client = graphql.DagsterGraphQLClient(
            parts.hostname or "127.0.0.1",
            port_number=parts.port,
            use_https=parts.scheme == "https",
            path_prefix=parts.path,
            timeout=30,
        )
        self._error = graphql.DagsterGraphQLClientError

    def _disabled(self) -> JSONResponse:
        return JSONResponse({"error": "retrain_disabled", "message": self.reason}, status_code=503)

    async def info(self, request: Request) -> Response:
        return JSONResponse(
            {
                "enabled": self.client is not None,
                "message": self.reason or f"Starts {self.job} on {self.url}.",
                "job": self.job,
                "dagster_url": self.url,
            }
        )

    async def start(self, request: Request) -> Response:
        if self.client is None:
            return self._disabled()
        try:
            run_id = await run_in_threadpool(self.client.submit_job_execution, self.job)
        except (self._error, OSError) as exc:
            message = f"Dagster at {self.url} refused to start {self.job}: {exc}"
            return JSONResponse({"error": "dagster_error", "message": message}, status_code=502)
        return JSONResponse(
            {"run_id": run_id, "url": f"{self.url}/runs/{run_id}", "job": self.job},
            status_code=202,
        )

    async def status(self, request: Request) -> Response:
        if self.client is None:
            return self._disabled()
        run_id = request.path_params["run_id"]
        if not RUN_ID.fullmatch(run_id):
            return JSONResponse(
                {"error": "bad_request", "message": "run_id: not a run id"}, status_code=400
            )
        try:
            status = await run_in_threadpool(self.client.get_run_status, run_id)
        except (self._error, OSError) as exc:
            if "RunNotFound" in str(exc):
                message = f"Dagster at {self.url} has no run {run_id}"
                return JSONResponse({"error": "not_found", "message": message}, status_code=404)
            message = f"Dagster at {self.url}: {exc}"
            return JSONResponse({"error": "dagster_error", "message": message}, status_code=502)
        return JSONResponse(
            {"run_id": run_id, "status": status.value, "url": f"{self.url}/runs/{run_id}"}
        )
