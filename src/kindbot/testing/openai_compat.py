"""A local OpenAI-compatible chat endpoint for tests and the demo (never a production path).

``OpenAICompatServer().app`` is a Starlette app serving ``POST
/v1/chat/completions`` and ``GET /v1/models`` in the OpenAI response shape.
It answers deterministically from the prompt kindbot sends
(:mod:`kindbot.dialogue.grounded`): the last user message is JSON with
``entries`` (``id``, ``question``, ``answer``) and ``message``; the reply's
content is ``{"answer": <first entry's answer>, "entry_ids": [<its id>]}``,
or ``{"answer": null}`` when there are no entries or the customer's message
contains :data:`NO_ANSWER_MARKER`.

Tests change :attr:`OpenAICompatServer.behaviour` (a :class:`Behaviour`) to
inject faults: a delay, an HTTP status (500, 429 …), a malformed body, ids
that were not in the prompt, or a scripted answer text. Every request is
counted and kept (:attr:`OpenAICompatServer.requests`) so tests can assert
what was (and was not) sent. With ``api_key`` set, a request without
``Authorization: Bearer <api_key>`` gets 401.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

NO_ANSWER_MARKER = "[[no-answer]]"
"""A customer message containing this gets ``{"answer": null}``."""

MODEL = "kindbot-test-model"


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How the server answers the next requests.

    ``delay_seconds``: wait before answering (cut short by
    :meth:`OpenAICompatServer.release`). ``status``: answer with this HTTP
    status and an OpenAI error body instead. ``malformed``: a 200 whose body
    is not JSON. ``foreign_ids``: cite an entry id that was not in the prompt.
    ``answer_text``: this text instead of the first entry's answer.
    ``content``: this exact message content (overrides everything above but
    the delay and status).
    """

    delay_seconds: float = 0.0
    status: int = 200
    malformed: bool = False
    foreign_ids: bool = False
    answer_text: str | None = None
    content: str | None = None


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One chat-completion request as received."""

    authorization: str | None
    body: dict[str, object]

    @property
    def user_content(self) -> str:
        """The text of the last user message ("" if none)."""
        messages = self.body.get("messages")
        if not isinstance(messages, list):
            return ""
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        content = users[-1].get("content") if users else None
        return content if isinstance(content, str) else ""


@dataclass
class OpenAICompatServer:
    """The server's state and controls; ``app`` serves it."""

    api_key: str | None = None
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[ReceivedRequest] = field(default_factory=list)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._completions, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )

    def release(self) -> None:
        """End every pending and future delay at once (call before stopping the server)."""
        self._released.set()

    async def _models(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(401, "invalid_api_key", "Incorrect API key provided.")
        return JSONResponse(
            {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "kindbot"}]}
        )

    async def _completions(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "invalid_request_error", "body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "invalid_request_error", "body is not a JSON object")
        self.requests.append(ReceivedRequest(request.headers.get("authorization"), body))
        if not self._authorized(request):
            return _error(401, "invalid_api_key", "Incorrect API key provided.")
        behaviour = self.behaviour
        if behaviour.delay_seconds > 0:
            try:
                async with asyncio.timeout(behaviour.delay_seconds):
                    await self._released.wait()
            except TimeoutError:
                pass
        if behaviour.status != 200:
            return _error(behaviour.status, "server_error", f"simulated HTTP {behaviour.status}")
        if behaviour.malformed:
            return Response('{"choices": [', media_type="application/json")
        content = behaviour.content or _answer(ReceivedRequest(None, body).user_content, behaviour)
        return JSONResponse(_completion(str(body.get("model", MODEL)), content))

    def _authorized(self, request: Request) -> bool:
        if self.api_key is None:
            return True
        return request.headers.get("authorization") == f"Bearer {self.api_key}"


def _answer(user_content: str, behaviour: Behaviour) -> str:
    """The deterministic reply content for kindbot's grounded prompt."""
    try:
        prompt = json.loads(user_content)
    except ValueError:
        return json.dumps({"answer": None})
    entries = prompt.get("entries") if isinstance(prompt, dict) else None
    message = prompt.get("message") if isinstance(prompt, dict) else None
    if not entries or not isinstance(message, str) or NO_ANSWER_MARKER in message:
        return json.dumps({"answer": None})
    first = entries[0]
    entry_id = "not-a-given-entry" if behaviour.foreign_ids else first["id"]
    text = behaviour.answer_text if behaviour.answer_text is not None else first["answer"]
    return json.dumps({"answer": text, "entry_ids": [entry_id]}, ensure_ascii=False)


def _completion(model: str, content: str) -> dict[str, object]:
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def _error(status: int, code: str, message: str) -> JSONResponse:
    body = {"error": {"message": message, "type": code, "param": None, "code": code}}
    return JSONResponse(body, status_code=status)
