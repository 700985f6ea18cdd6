"""The webhook benchmark runs and reports the window it must keep."""

from __future__ import annotations

from typing import Any

from bot.channels.wechat_bench import bench_webhook


async def test_bench_webhook_small_run(stack: Any) -> None:
    report = await bench_webhook(stack.bot, stack.conversations, stack.engine,
                                 citizens=2, messages_each=3, slow_s=4.6)
    assert report["messages"] == 6 and report["p50_ms"] <= report["p99_ms"]
    # Answered with "success" at the 4.3 s deadline, not when the dialogue finished.
    assert 4.2 < report["slowed_longest_response_s"] < 4.5, report
    assert report["within_wechat_window"] is True
