"""Search, NLU parse, health and the knowledge-base editing API over HTTP."""

from __future__ import annotations

import asyncio
import time

RASA_KEYS = {"text", "intent", "intent_ranking", "entities"}


async def test_search_returns_ranked_entries(client):
    response = await client.get("/api/search", params={"q": "驾照到期了怎么换", "k": 3})
    assert response.status_code == 200
    results = response.json()["results"]
    assert 1 <= len(results) <= 3
    assert set(results[0]) >= {"id", "title", "kind", "score"}
    assert results[0]["kind"] in ("guide", "policy", "faq")
    assert "驾驶证" in results[0]["title"]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


async def test_parse_speaks_rasa_format(client):
    response = await client.post("/api/nlu/parse", json={"text": "转人工"})
    body = response.json()
    assert set(body) >= RASA_KEYS
    assert body["intent"] == {"name": "request_human", "confidence": 1.0}
    assert body["intent_ranking"][0]["name"] == "request_human"


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["entries"] > 100
    docs = await client.get("/openapi.json")
    assert "/api/chat" in docs.json()["paths"]


async def test_kb_routes_need_the_token(client):
    assert (await client.get("/api/kb/entries")).status_code == 401
    wrong = {"Authorization": "Bearer wrong"}
    assert (await client.get("/api/kb/entries", headers=wrong)).status_code == 401
    body = {"id": "faq-x", "title": "t", "text": "x"}
    assert (await client.post("/api/kb/entries", json=body)).status_code == 401
    assert (await client.delete("/api/kb/entries/faq-x")).status_code == 401


async def wait_for_search(client, query: str, entry_id: str, present: bool) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < 2.0:
        results = (await client.get("/api/search", params={"q": query})).json()["results"]
        if (entry_id in [r["id"] for r in results]) == present:
            return time.perf_counter() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"{entry_id} present={present} not reached within 2 s for {query!r}")


async def test_created_entry_is_searchable_and_deleted_entry_gone(client, auth):
    entry = {
        "id": "faq-test-dragon-boat",
        "kind": "faq",
        "title": "端午节龙舟赛期间江滨路交通管制吗",
        "text": "龙舟赛当天上午7点到12点，江滨路滨江段实行临时交通管制，请绕行。",
        "questions": ["龙舟赛那天江滨路能走车吗", "端午划龙舟封路吗", "龙舟比赛交通管制时间"],
    }
    created = await client.post("/api/kb/entries", json=entry, headers=auth)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1
    await wait_for_search(client, "龙舟赛封路吗", entry["id"], present=True)
    duplicate = await client.post("/api/kb/entries", json=entry, headers=auth)
    assert duplicate.status_code == 409
    patch = {"title": "端午节龙舟赛期间江滨路交通管制时间"}
    updated = await client.patch(f"/api/kb/entries/{entry['id']}", json=patch, headers=auth)
    assert updated.json()["version"] == 2
    revisions = await client.get(f"/api/kb/entries/{entry['id']}/revisions", headers=auth)
    assert [r["version"] for r in revisions.json()["revisions"]] == [1, 2]
    deleted = await client.delete(f"/api/kb/entries/{entry['id']}", headers=auth)
    assert deleted.status_code == 204
    await wait_for_search(client, "龙舟赛封路吗", entry["id"], present=False)
    restored = await client.post(
        f"/api/kb/entries/{entry['id']}/restore", json={"version": 1}, headers=auth
    )
    assert restored.status_code == 200
    assert restored.json()["title"] == entry["title"]
    await wait_for_search(client, "龙舟赛封路吗", entry["id"], present=True)
    await client.delete(f"/api/kb/entries/{entry['id']}", headers=auth)


async def test_kb_validation_errors_are_clear(client, auth):
    bad_id = await client.post(
        "/api/kb/entries", json={"id": "有空格 id", "title": "t"}, headers=auth
    )
    assert bad_id.status_code == 422
    missing = await client.get("/api/kb/entries/no-such-entry", headers=auth)
    assert missing.status_code == 404
    listing = await client.get("/api/kb/entries", params={"kind": "guide", "limit": 5}, headers=auth)
    assert listing.status_code == 200
    assert listing.json()["total"] >= 60
    assert all(e["kind"] == "guide" for e in listing.json()["entries"])
