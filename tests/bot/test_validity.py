"""A policy that is no longer in force is never presented as current."""

from __future__ import annotations

import httpx


async def say(client: httpx.AsyncClient, sender: str, message: str) -> list[dict]:
    response = await client.post("/api/chat", json={"sender": sender, "message": message})
    assert response.status_code == 200, response.text
    return response.json()


async def test_repealed_policy_warns_and_points_to_its_replacement(client):
    replies = await say(client, "validity-1", "/entry policy-housing-fund-loan-2021")
    text = replies[0]["text"]
    assert "请注意" in text and "已废止" in text
    assert "现行有效" not in text.split("请注意")[0]
    assert replies[0]["buttons"][0]["payload"] == "/entry policy-housing-fund-loan-2024"
    newer = await say(client, "validity-1", "看新政策")
    assert newer[0]["custom"]["entry_ids"] == ["policy-housing-fund-loan-2024"]
    assert "请注意" not in newer[0]["text"]
    assert "现行有效" in newer[0]["text"]


async def test_expired_policy_says_when_it_expired(client):
    replies = await say(client, "validity-2", "/entry policy-employment-stabilization-2023")
    assert "2024年12月31日到期失效" in replies[0]["text"]
    assert "buttons" not in replies[0]


async def test_search_flags_non_current_policies(client):
    body = (await client.get("/api/search", params={"q": "2021年的公积金贷款政策", "k": 5})).json()
    flags = {r["id"]: r["current"] for r in body["results"]}
    assert flags.get("policy-housing-fund-loan-2021") is False
    assert flags.get("policy-housing-fund-loan-2024", True) is True


async def test_a_repealed_policy_asked_about_again_still_warns(client):
    """The second answer about the same entry is its gist: the warning stays in it."""
    await say(client, "validity-3", "/entry policy-housing-fund-loan-2021")
    replies = await say(client, "validity-3", "2021年公积金贷款政策")
    assert replies[0]["custom"]["entry_ids"] == ["policy-housing-fund-loan-2021"]
    text = replies[0]["text"]
    assert "请注意" in text and "已废止" in text, text
    assert "问：" not in text  # the gist, not the whole explainer again
    assert replies[0]["buttons"][0]["payload"] == "/entry policy-housing-fund-loan-2024"
