"""Search and NLU parse endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from bot.api.deps import ServicesDep
from bot.messages import clean_text

router = APIRouter(prefix="/api", tags=["search"])


class ParseRequest(BaseModel):
    text: str = Field(max_length=100_000)


def _checked(text: str, limit: int) -> str:
    cleaned = clean_text(text)
    if not cleaned:
        raise HTTPException(422, detail="内容不能为空")
    if len(cleaned) > limit:
        raise HTTPException(413, detail=f"内容太长了，请控制在{limit}字以内")
    return cleaned


@router.get("/search")
async def search(
    services: ServicesDep,
    q: str = Query(max_length=100_000),
    k: int = Query(default=5, ge=1, le=50),
) -> dict[str, Any]:
    query = _checked(q, services.max_message_chars)
    result = await run_in_threadpool(services.index.retriever.search, query, k)
    return {
        "query": query,
        "confident": result.confident,
        "results": [
            {"id": h.entry_id, "title": h.title, "kind": h.kind, "score": round(h.score, 4),
             "current": h.current}
            for h in result.hits
        ],
    }


@router.post("/nlu/parse")
async def parse(body: ParseRequest, services: ServicesDep) -> dict[str, Any]:
    text = _checked(body.text, services.max_message_chars)
    prediction = await run_in_threadpool(services.classifier.parse, text)
    parsed: dict[str, Any] = prediction.to_rasa(text)
    return parsed
