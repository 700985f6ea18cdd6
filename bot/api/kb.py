"""Knowledge-base editing API (bearer token). Writes reach search within seconds
through the store's change listeners, wired in server.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from bot.api.deps import EditorDep, ServicesDep
from knowledge_base.errors import EntryConflict, EntryNotFound, InvalidEntry
from knowledge_base.models import Entry, EntryCreate, EntryKind, EntryStatus, EntryUpdate

router = APIRouter(prefix="/api/kb", tags=["knowledge base"])


class RestoreRequest(BaseModel):
    version: int = Field(ge=1)


def _not_found(entry_id: str) -> HTTPException:
    return HTTPException(404, detail=f"条目 {entry_id} 不存在")


@router.get("/entries")
async def list_entries(
    services: ServicesDep,
    editor: EditorDep,
    kind: EntryKind | None = None,
    status: EntryStatus | None = None,
    q: str | None = Query(default=None, max_length=200),
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    entries = await run_in_threadpool(
        services.kb.list, kind=kind, status=status, query=q, offset=offset, limit=limit
    )
    total = await run_in_threadpool(services.kb.count, kind=kind, status=status, query=q)
    return {"total": total, "entries": [e.model_dump(mode="json") for e in entries]}


@router.post("/entries", status_code=201)
async def create_entry(body: EntryCreate, services: ServicesDep, editor: EditorDep) -> Entry:
    try:
        return await run_in_threadpool(services.kb.create, body, editor)
    except EntryConflict:
        raise HTTPException(409, detail=f"条目 {body.id} 已存在") from None


@router.get("/entries/{entry_id}")
async def get_entry(entry_id: str, services: ServicesDep, editor: EditorDep) -> Entry:
    try:
        return await run_in_threadpool(services.kb.get, entry_id)
    except EntryNotFound:
        raise _not_found(entry_id) from None


@router.patch("/entries/{entry_id}")
async def update_entry(
    entry_id: str, body: EntryUpdate, services: ServicesDep, editor: EditorDep
) -> Entry:
    try:
        return await run_in_threadpool(services.kb.update, entry_id, body, editor)
    except EntryNotFound:
        raise _not_found(entry_id) from None
    except EntryConflict as exc:
        raise HTTPException(409, detail=str(exc)) from None
    except InvalidEntry as exc:
        raise HTTPException(422, detail=str(exc)) from None


@router.delete("/entries/{entry_id}", status_code=204)
async def delete_entry(entry_id: str, services: ServicesDep, editor: EditorDep) -> Response:
    try:
        await run_in_threadpool(services.kb.delete, entry_id, editor)
    except EntryNotFound:
        raise _not_found(entry_id) from None
    return Response(status_code=204)


@router.get("/entries/{entry_id}/revisions")
async def revisions(entry_id: str, services: ServicesDep, editor: EditorDep) -> dict[str, Any]:
    items = await run_in_threadpool(services.kb.revisions, entry_id)
    if not items:
        raise _not_found(entry_id)
    return {"revisions": [r.model_dump(mode="json") for r in items]}


@router.post("/entries/{entry_id}/restore")
async def restore(
    entry_id: str, body: RestoreRequest, services: ServicesDep, editor: EditorDep
) -> Entry:
    try:
        return await run_in_threadpool(services.kb.restore, entry_id, body.version, editor)
    except EntryNotFound:
        raise HTTPException(404, detail=f"条目 {entry_id} 没有版本 {body.version}") from None
