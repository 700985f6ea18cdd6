"""The webhook benchmark runs and reports the window it must keep."""

from __future__ import annotations

from typing import Any

from bot.channels.wechat_bench import bench_webhook


async def test_bench_webhook_small_run(stack: Any) -> None:
    report = await bench_webhook(stack.bot, stack.conversations, stack.engine,
                                 citizens=4, messages_each=2, slow_s=4.6)
    assert report["messages"] == 8 and report["p50_ms"] <= report["p99_ms"]
    assert report["within_wechat_window"] is True
    assert 4.0 < report["slowed_longest_response_s"] < 4.5
