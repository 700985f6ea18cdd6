"""Bad input gets a clear 4xx or a graceful reply; never a 500, never a lost conversation."""

from __future__ import annotations

import httpx
import pytest


async def chat(client: httpx.AsyncClient, sender: str, message: str) -> httpx.Response:
    return await client.post("/api/chat", json={"sender": sender, "message": message})


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"[]",
        b'{"sender": "x"}',
        b'{"message": "hi"}',
        b'{"sender": 5, "message": []}',
        "\u00ff\u00fe".encode("latin-1"),
    ],
)
async def test_malformed_bodies_get_422(client, body):
    response = await client.post(
        "/api/chat", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


async def test_oversized_message_gets_413_with_a_clear_message(client):
    response = await chat(client, "u-big", "办" * 2001)
    assert response.status_code == 413
    assert "2000" in response.json()["detail"]


async def test_oversized_body_is_refused_before_parsing(client):
    response = await client.post(
        "/api/chat", content=b"x" * 1_100_000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\x00\x01\x02"])
async def test_empty_messages_get_a_prompt(client, text):
    response = await chat(client, "u-empty", text)
    assert response.status_code == 200
    assert "输入" in response.json()[0]["text"]


async def test_emoji_only_gets_a_graceful_reply(client):
    response = await chat(client, "u-emoji", "😀😀👍")
    assert response.status_code == 200
    assert "文字" in response.json()[0]["text"]


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>身份证怎么补办",
        "'; DROP TABLE turns; --",
        "身份证\x07丢了\x1b怎么办",
        "ｓｈｅｎｆｅｎｚｈｅｎｇ　身份证",
    ],
)
async def test_hostile_text_is_just_text(client, services, text):
    response = await chat(client, "u-hostile", text)
    assert response.status_code == 200
    body = response.json()
    assert body and "<script>" not in body[0]["text"]
    conversation = services.conversations.open("rest", "u-hostile")
    assert services.conversations.history(conversation.id)  # the turns table survived


async def test_search_and_parse_validate_input(client):
    assert (await client.get("/api/search", params={"q": ""})).status_code == 422
    assert (await client.get("/api/search", params={"q": "x", "k": 0})).status_code == 422
    assert (await client.post("/api/nlu/parse", json={"text": " "})).status_code == 422
    assert (await client.post("/api/nlu/parse", content=b"nope")).status_code == 422


async def test_chat_accepts_json_sent_as_form_encoding(client):
    """`curl -d '{...}'` without a Content-Type header, as in the README."""
    response = await client.post(
        "/api/chat",
        content='{"sender":"u-curl","message":"身份证丢了怎么补办"}'.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.json()[0]["custom"]["entry_ids"] == ["guide-id-card-reissue"]


async def test_oversized_chunked_body_is_refused_too(client):
    async def chunks():  # no Content-Length: the limit holds while the body streams in
        for _ in range(12):
            yield b"x" * 100_000

    response = await client.post(
        "/api/chat", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
