"""Rasa REST-channel compatible chat, feedback and ratings."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from bot import texts
from bot.api.deps import ServicesDep
from bot.dialogue import rasa_messages
from bot.messages import InboundMessage, clean_text, has_words

router = APIRouter(prefix="/api", tags=["chat"])


class ChatRequest(BaseModel):
    sender: str = Field(min_length=1, max_length=128)
    message: str = Field(max_length=100_000)
    message_id: str | None = Field(default=None, max_length=128)


class FeedbackRequest(BaseModel):
    turn_id: int
    helpful: bool


class RatingRequest(BaseModel):
    sender: str = Field(min_length=1, max_length=128)
    value: int = Field(ge=1, le=5)  # 5 非常满意 ... 1 非常不满意
    comment: str | None = Field(default=None, max_length=1000)


async def chat_request(request: Request) -> ChatRequest:
    """The JSON body whatever the Content-Type: `curl -d '{...}'` sends form encoding."""
    try:
        return ChatRequest.model_validate(json.loads(await request.body()))
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError):
            raise RequestValidationError(exc.errors()) from None
        raise RequestValidationError([{"loc": ["body"], "msg": "JSON 格式不正确"}]) from None


CHAT_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ChatRequest.model_json_schema()}},
    }
}


@router.post("/chat", openapi_extra=CHAT_SCHEMA, response_model=list[dict[str, Any]])
async def chat(request: Request, services: ServicesDep) -> JSONResponse:
    """Returns the response itself: FastAPI would otherwise encode and validate the returned
    list against the declared model on every message, data we built ourselves."""
    body = await chat_request(request)
    text = clean_text(body.message)
    if len(text) > services.max_message_chars:
        raise HTTPException(
            413, detail=f"消息太长了，请控制在{services.max_message_chars}字以内"
        )
    if not text:
        return JSONResponse([{"recipient_id": body.sender, "text": texts.EMPTY_MESSAGE}])
    if not has_words(text):
        return JSONResponse([{"recipient_id": body.sender, "text": texts.SYMBOLS_ONLY}])
    msg = InboundMessage("rest", body.sender, text, external_id=body.message_id)
    outcome = await services.bot.handle_async(msg, run_in_threadpool)
    return JSONResponse(rasa_messages(body.sender, outcome.replies))


@router.post("/feedback")
async def feedback(body: FeedbackRequest, services: ServicesDep) -> dict[str, Any]:
    found = await run_in_threadpool(services.conversations.turn, body.turn_id)
    if found is None or found[1].author != "bot":
        raise HTTPException(404, detail="找不到这条回答")
    conversation_id, turn = found
    rows = await run_in_threadpool(
        services.conversations.rate_turn, conversation_id, turn, body.helpful
    )
    return {"ok": True, "entries": list(turn.entry_ids), "rows": rows}


@router.post("/rating")
async def rating(body: RatingRequest, services: ServicesDep) -> dict[str, Any]:
    conversation = await run_in_threadpool(services.conversations.open, "rest", body.sender)
    await run_in_threadpool(
        services.conversations.rate_conversation, conversation.id, body.value, body.comment
    )
    return {"ok": True, "conversation_id": conversation.id}
