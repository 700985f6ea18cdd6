"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Any:
    services = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    try:
        await run_in_threadpool(services.ping_database)
    except Exception:  # noqa: BLE001 - any driver error means "not ready"; details go to the log
        return JSONResponse({"status": "database_unavailable"}, status_code=503)
    return {"status": "ready", "entries": len(services.index)}
