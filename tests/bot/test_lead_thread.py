"""Where a served message's dialogue runs: on the e5 model's lead thread when the model is
idle (its embedding call then needs no handing over), on the channel's threads otherwise."""

from __future__ import annotations

import threading
from typing import Any

from bot.api.deps import Services
from tests.bot.test_chat_api import new_sender, say


def record_threads(services: Services) -> list[str]:
    names: list[str] = []
    services.bot.observe(lambda conversation, outcome: names.append(threading.current_thread().name))
    return names


async def test_a_message_to_an_idle_model_is_handled_on_its_lead_thread(client, services) -> None:
    names = record_threads(services)
    replies = await say(client, new_sender(), "身份证丢了怎么补办")
    assert replies[0]["custom"]["entry_ids"] == ["guide-id-card-reissue"]
    assert names == ["e5-0"]


async def test_a_message_while_the_lead_thread_is_busy_is_handled_elsewhere(
    client, services
) -> None:
    scheduler: Any = services.index.retriever.embedder.inner.scheduler
    gate, started = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        assert gate.wait(30)

    held = scheduler.lead(hold)
    assert held is not None and started.wait(10)
    names = record_threads(services)
    try:
        replies = await say(client, new_sender(), "社保卡丢了怎么办")  # e5's other worker embeds it
        assert replies[0]["custom"]["entry_ids"]
        assert names and names[0] != "e5-0"
    finally:
        gate.set()
    held.result(10)
    await say(client, new_sender(), "公积金怎么提取")
    assert names[-1] == "e5-0"
