"""The local OpenAI-compatible test server: its shapes, key check and injected faults."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kindbot.dialogue.grounded import GenerativeSettings, chat_body, grounding_request
from kindbot.dialogue.retrieval import Match
from kindbot.testing.openai_compat import MODEL, Behaviour, OpenAICompatServer

FOUND = (Match("a", "q-a", "answer a", 0.3), Match("b", "q-b", "answer b", 0.2))
SETTINGS = GenerativeSettings(base_url="http://test/v1", model="m")


def client(server: OpenAICompatServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")


async def complete(
    server: OpenAICompatServer, message: str = "hi", key: str | None = None
) -> httpx.Response:
    body = chat_body(grounding_request(message, FOUND, 3), SETTINGS)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with client(server) as http:
        return await http.post("/v1/chat/completions", json=body, headers=headers)


def content(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion"
    return json.loads(body["choices"][0]["message"]["content"])


async def test_it_answers_from_the_first_entry_and_checks_the_key() -> None:
    server = OpenAICompatServer(api_key="k")
    assert content(await complete(server, key="k")) == {"answer": "answer a", "entry_ids": ["a"]}
    assert (await complete(server, key="wrong")).status_code == 401
    assert (await complete(server)).status_code == 401
    assert len(server.requests) == 3
    async with client(server) as http:
        models = await http.get("/v1/models", headers={"Authorization": "Bearer k"})
    assert models.json()["data"][0]["id"] == MODEL


async def test_injected_behaviours() -> None:
    server = OpenAICompatServer()
    assert content(await complete(server, "x [[no-answer]]")) == {"answer": None}
    server.behaviour = Behaviour(foreign_ids=True, answer_text="scripted")
    assert content(await complete(server)) == {
        "answer": "scripted",
        "entry_ids": ["not-a-given-entry"],
    }
    server.behaviour = Behaviour(status=429)
    assert (await complete(server)).status_code == 429
    server.behaviour = Behaviour(malformed=True)
    response = await complete(server)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    server.behaviour = Behaviour(delay_seconds=30.0)
    server.release()  # a released server never waits
    assert content(await complete(server))["entry_ids"] == ["a"]
