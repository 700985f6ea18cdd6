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


async def test_a_question_that_finds_a_superseded_policy_gets_the_one_in_force(client):
    """"最新的落户政策" found the repealed 2019 rules and answered them, warning first; the
    2024 rules that replaced them are what the citizen asked for."""
    replies = await say(client, "validity-4", "最新的落户政策")
    assert replies[0]["custom"]["entry_ids"] == ["policy-hukou-settlement-2024"], replies[0]["text"]
    first, rest = replies[0]["text"].split("\n", 1)
    assert "2019" in first and "已废止" in first and "现行" in first
    assert "请注意" not in rest and "现行有效" in rest
    amended = await say(client, "validity-5", "低保标准是多少")
    assert amended[0]["custom"]["entry_ids"] == ["policy-minimum-living-standard-2025"]
    assert "已修订" in amended[0]["text"].split("\n")[0]


async def test_a_question_that_asks_for_the_old_version_gets_it_with_its_warning(client):
    for sender, question in (("validity-6", "2019年的落户政策"), ("validity-7", "以前的人才政策是怎么规定的")):
        replies = await say(client, sender, question)
        assert replies[0]["custom"]["entry_ids"][0].endswith(("2019", "2021")), replies[0]["text"]
        assert "请注意" in replies[0]["text"]
    expired = await say(client, "validity-8", "稳岗补贴还有吗")
    assert expired[0]["custom"]["entry_ids"] == ["policy-employment-stabilization-2023"]
    assert "到期失效" in expired[0]["text"]
