"""The FastAPI application: `create_app(settings)` wires stores, models and routes.

This is the only module that reads `Settings`; every other piece takes constructor
arguments so tests can build it on `tmp_path`.
"""

from __future__ import annotations

import gc
import logging
import queue
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import redact
from bot.api import chat, health, kb, search
from bot.api.deps import Services
from bot.channels import webchat_routes, webchat_static
from bot.console import admin as console_admin
from bot.console import api as console_api
from bot.console import pages as console_pages
from bot.console import socket as console_socket
from bot.conversations import ConversationStore
from bot.dialogue import Bot, HandoffPolicy
from bot.errors import StorageUnavailable
from bot.handoff import HandoffService
from bot.router import Router
from intents.model import load_or_train
from knowledge_base.content_loader import load_content_dir
from knowledge_base.db import create_engine_for, migrate, sqlite_url
from knowledge_base.errors import StoreUnavailable
from knowledge_base.feed import FeedFollower
from knowledge_base.store import KnowledgeBaseStore
from retrieval.e5_pool import single_threaded_blas
from retrieval.embed import load_embedder
from retrieval.indexer import KnowledgeIndex, print_progress
from retrieval.rerank import CrossEncoderReranker
from server_channels import serve_channels, service_hours
from settings import Settings

log = logging.getLogger("wenzheng")

MAX_BODY_BYTES = 1_000_000


def open_database(settings: Settings) -> Engine:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine_for(settings.database_url or sqlite_url(settings.data_dir))
    migrate(engine)
    return engine


def seed_demo_content(store: KnowledgeBaseStore, settings: Settings) -> None:
    if settings.load_demo_content and store.count() == 0:
        entries = load_content_dir(settings.content_dir)
        report = store.upsert_many(entries, "demo-content")
        log.info("loaded demo content: %s", report)


class IndexUpdater:
    """Applies knowledge-base edits to the search index on a worker thread, so an editor's
    write returns at once and the entry becomes searchable (or gone) within about a second."""

    def __init__(self, index: KnowledgeIndex) -> None:
        self._index = index
        # An edit is searchable once applied in memory; writing the index files (seconds at
        # 20,000 entries) waits until a burst of edits is over. A crash before that loses
        # nothing: the next start re-indexes entries that differ from the store.
        index.autosave = False
        self._queue: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="index-updater", daemon=True)
        self._thread.start()

    def on_change(self, action: str, entry_id: str, entry: Any) -> None:
        self._queue.put((entry_id, entry))

    def _work(self) -> None:
        dirty = False
        while (item := self._queue.get()) is not None:
            entry_id, entry = item
            try:
                if entry is None:
                    self._index.remove(entry_id)
                else:
                    self._index.upsert(entry)
                dirty = True
            except Exception:  # one bad entry must not stop later updates
                log.exception("index update failed for %s", entry_id)
            if dirty and self._queue.empty():
                dirty = not self._save()
        if dirty:
            self._save()

    def _save(self) -> bool:
        try:
            self._index.save()
            return True
        except Exception:
            log.exception("saving the index failed; it is rebuilt from the store on restart")
            return False

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)


def build_index(
    settings: Settings,
    store: KnowledgeBaseStore,
    rebuild: bool = False,
    progress: bool = False,
    embedder: Any = None,
) -> KnowledgeIndex:
    """The search index, brought in step with the store (only changed text is embedded)."""
    embedder = embedder or load_embedder(settings.embedding_model)
    reranker = CrossEncoderReranker(settings.reranker_model) if settings.reranker_model else None
    index = KnowledgeIndex(settings.data_dir, embedder=embedder, reranker=reranker)
    report = print_progress if progress else None
    if rebuild:
        index.build(store.iter_all(), progress=report)
    else:
        index.load_or_build(store.iter_all(), progress=report)
    return index


def build_classifier(settings: Settings, force: bool = False, embedder: Any = None) -> Any:
    embedder = embedder or load_embedder(settings.embedding_model)
    return load_or_train(settings.nlu_path, settings.data_dir / "intents", embedder, force=force)


def build_services(settings: Settings) -> Services:
    engine = open_database(settings)
    store = KnowledgeBaseStore(engine)
    seed_demo_content(store, settings)
    feed_seq = store.last_change_seq()  # before the index reads the store: nothing falls between
    embedder = load_embedder(settings.embedding_model)
    index = build_index(settings, store, progress=True, embedder=embedder)
    store.subscribe(IndexUpdater(index).on_change)
    classifier = build_classifier(settings, embedder=embedder)
    single_threaded_blas()  # after training: from here on the cores belong to e5
    conversations = ConversationStore(engine)
    handoff = HandoffService(conversations)
    router = Router(classifier, index.retriever)
    policy = HandoffPolicy(settings.handoff_misses, settings.handoff_not_helpful,
                           tuple(settings.handoff_topics), service_hours(settings).describe())
    bot = Bot(conversations, router, store, handoff, policy=policy)

    def ping() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return Services(
        kb=store, index=index, classifier=classifier, bot=bot, conversations=conversations,
        api_token=settings.api_token.get_secret_value() if settings.api_token else None,
        max_message_chars=settings.max_message_chars, ping_database=ping, engine=engine,
        feed_seq=feed_seq,
    )


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": message}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return _error(503, "service_unavailable", "服务暂时不可用（数据库连接中断），请稍后再试")

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()
        ]
        return JSONResponse(
            {"error": "invalid_request", "detail": "请求格式不正确", "errors": errors},
            status_code=422,
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            {"error": "http_error", "detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return _error(500, "internal_error", "服务暂时出现问题，请稍后再试")

    app.add_exception_handler(StorageUnavailable, unavailable)
    app.add_exception_handler(StoreUnavailable, unavailable)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuses request bodies over `limit` bytes with a 413, by Content-Length or while a
    chunked body streams in. Plain ASGI: Starlette's `BaseHTTPMiddleware` costs a task
    group and a stream per request, on every chat message."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _error(413, "payload_too_large", "请求内容太大")(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return message

        async def watching_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _BodyTooLarge:
            if not started:
                await _error(413, "payload_too_large", "请求内容太大")(scope, receive, send)


def settle_heap() -> None:
    """Moves what start-up built (indexes, models, dictionaries: 242k tracked objects on
    the dev base) out of the garbage collector's sight. Each full collection walked all
    of them, 112 ms with the GIL held, every few hundred messages: 0.28 ms a message on
    average, and a pause for every citizen waiting at that moment. Measured in process on
    the dev base; after the freeze a full collection takes well under 1 ms. They live as
    long as the app."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The app; pass `services` to reuse already-built ones (tests, benchmarks)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redact.install()  # after uvicorn configured its loggers: no tokens in the access log
        app.state.services = built = services or build_services(settings)
        if services is None:
            settle_heap()
        follower = None
        if settings.feed_poll_seconds > 0:
            follower = FeedFollower(built.kb, built.feed_seq, settings.feed_poll_seconds).start()
        try:
            async with serve_channels(app, settings, built):
                yield
        finally:
            if follower is not None:
                follower.close()
                built.feed_seq = follower.seq  # reused services resume here, not from the start

    app = FastAPI(title="问政助手 API", version="0.1.0", lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    for module in (chat, search, kb, health, webchat_routes, webchat_static, console_api,
                   console_admin, console_pages, console_socket):
        app.include_router(module.router)
    app.include_router(console_api.public)
    return app

