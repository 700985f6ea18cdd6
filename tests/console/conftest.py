"""The staff console on the real assistant: the session's prebuilt index and intent model
copied into this package's own data dir, staff on duty around the clock unless a test says
otherwise, and helpers for staff members who log in through the API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api.deps import Services
from server import build_services, create_app
from settings import Settings
from tests.console.people import Staff, add_user, log_in, on_duty
from tests.prebuilt import copy_prebuilt


@pytest.fixture(scope="session")
def console_prebuilt(request: pytest.FixtureRequest) -> Path:
    """BOT_TEST_PREBUILT_DIR: a data dir built before (index, intents), to skip the build."""
    kept = os.environ.get("BOT_TEST_PREBUILT_DIR")
    if kept and Path(kept, "index").is_dir():
        return Path(kept)
    prebuilt: Path = request.getfixturevalue("prebuilt_dir")
    return prebuilt


@pytest.fixture(scope="session")
def console_data_dir(console_prebuilt: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_prebuilt(console_prebuilt, tmp_path_factory.mktemp("console"))


@pytest.fixture(scope="session")
def console_settings(console_data_dir: Path) -> Settings:
    return on_duty(console_data_dir)


@pytest.fixture(scope="session")
def console_services(console_settings: Settings) -> Services:
    return build_services(console_settings)


@pytest.fixture
def web(console_settings: Settings, console_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(console_settings, services=console_services)) as client:
        yield client


@pytest.fixture
def staff_member(web: TestClient, console_services: Services) -> Any:
    """Factory: `staff_member("supervisor", "王芳")` -> a logged-in `Staff`."""

    def make(role: str = "staff", name: str | None = None) -> Staff:
        return log_in(web, add_user(console_services, role, name))

    return make
