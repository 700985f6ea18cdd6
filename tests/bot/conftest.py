"""The whole assistant, built once per test session on the demo content in tmp storage,
with the real e5 model, a real FAISS index and the trained intent model."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bot.api.deps import Services
from server import build_services, create_app
from settings import Settings
from tests.prebuilt import copy_prebuilt

API_TOKEN = "test-token-not-a-secret"


@pytest.fixture(scope="session")
def data_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # BOT_TEST_DATA_DIR keeps the built index and intent model between local runs
    kept = os.environ.get("BOT_TEST_DATA_DIR")
    if kept:
        return Path(kept)
    prebuilt: Path = request.getfixturevalue("prebuilt_dir")
    return copy_prebuilt(prebuilt, tmp_path_factory.mktemp("botdata"))


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, api_token=API_TOKEN)


@pytest.fixture(scope="session")
def services(settings: Settings) -> Services:
    return build_services(settings)


@pytest.fixture
def app(settings: Settings, services: Services) -> FastAPI:
    return create_app(settings, services=services)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_TOKEN}"}
