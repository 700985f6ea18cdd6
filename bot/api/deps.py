"""Shared dependencies of the HTTP routes: the wired services and the editor token check."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy import Engine

from bot.conversations import ConversationStore
from bot.dialogue import Bot
from knowledge_base.store import KnowledgeBaseStore


@dataclass
class Services:
    kb: KnowledgeBaseStore
    index: Any  # retrieval.indexer.KnowledgeIndex
    classifier: Any  # intents classifier with .parse(text)
    bot: Bot
    conversations: ConversationStore
    api_token: str | None
    max_message_chars: int
    ping_database: Any  # Callable[[], None]; raises when the database is unreachable
    engine: Engine
    feed_seq: int = 0  # the change feed's last seq before the index was brought in step


async def get_services(request: Request) -> Services:
    """Async: FastAPI runs a plain function dependency in its thread pool, a thread round
    trip on every request."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise HTTPException(503, detail="服务正在启动，请稍后再试")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def require_editor(
    services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    """Bearer-token check for knowledge-base writes; constant-time comparison."""
    if not services.api_token:
        raise HTTPException(503, detail="未配置 BOT_API_TOKEN，知识库编辑接口已关闭")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.encode(), services.api_token.encode()
    ):
        raise HTTPException(401, detail="缺少或错误的访问令牌", headers={"WWW-Authenticate": "Bearer"})
    return "api-token"


EditorDep = Annotated[str, Depends(require_editor)]
