"""Generative answers at the edge: one HTTP call to the tenant's OpenAI-compatible endpoint.

:meth:`GenerativeAnswers.revise` runs after :func:`kindbot.dialogue.responder.respond`
and before the pipeline's outcome transaction (the call never holds a
database transaction open). It returns the outcome unchanged unless the
tenant configured ``llm:``, the outcome qualifies
(:func:`kindbot.dialogue.grounded.wants_grounding`) and the model's reply
passes :func:`kindbot.dialogue.grounded.validate_reply`; a timeout, an HTTP
error or a rejected reply keeps the normal path. The reply then goes through
the guard like any other (moderation, the AIGC label).

Only the retrieved entries and the customer's current message are sent; the
API key travels only in the ``Authorization`` header and is never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx

from kindbot.core.ports.seams import Store
from kindbot.core.records.tenancy import TenantRecord
from kindbot.dialogue.grounded import (
    GenerativeSettings,
    GroundedAnswer,
    GroundingRequest,
    NoGroundedAnswer,
    answered,
    chat_body,
    completion_content,
    grounding_request,
    validate_reply,
    wants_grounding,
)
from kindbot.dialogue.handoff import bot_answers
from kindbot.dialogue.responder import DialogueOutcome
from kindbot.dialogue.retrieval import KnowledgeIndex
from kindbot.storage.sealing import SealError, SecretBox

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 64 * 1024
"""A completion body larger than this is refused unread (an answer is at most 1,000 characters)."""


class GenerativeAnswers:
    """Asks tenants' endpoints for grounded answers, over the container's HTTP client."""

    def __init__(self, *, http: httpx.AsyncClient, box: SecretBox, store: Store) -> None:
        self._http = http
        self._box = box
        self._store = store

    def settings_of(self, tenant: TenantRecord) -> GenerativeSettings | None:
        """The tenant's opened ``llm:`` settings (None: not configured or unreadable)."""
        if tenant.llm_sealed is None:
            return None
        try:
            return GenerativeSettings.from_json(self._box.open(tenant.llm_sealed))
        except (SealError, ValueError, KeyError, TypeError):
            log.error("tenant %s: the stored llm settings do not open", tenant.slug)
            return None

    async def revise(
        self,
        outcome: DialogueOutcome,
        message: str,
        index: KnowledgeIndex,
        tenant: TenantRecord,
        *,
        conversation_id: str,
    ) -> DialogueOutcome:
        """``outcome``, or the same outcome answered by the tenant's model.

        Waits at most the tenant's ``timeout_seconds`` for the model. Never asks
        it while a person has the conversation or is awaited (the bot's replies
        would be dropped, and the customer's words would go to the model for nothing).
        """
        settings = self.settings_of(tenant)
        if settings is None or not wants_grounding(outcome, settings.min_confidence):
            return outcome
        if not await self._bot_has(conversation_id):
            return outcome  # a person has it: the customer's words go to nobody else
        found = outcome.candidates
        if len(found) < settings.max_entries:
            found = index.search(message, limit=settings.max_entries)
        request = grounding_request(message, found, settings.max_entries)
        result = await self.ask(settings, request)
        if isinstance(result, NoGroundedAnswer):
            log.info("tenant %s: no generated answer: %s", tenant.slug, result.reason)
            return outcome
        return answered(outcome, result)

    async def _bot_has(self, conversation_id: str) -> bool:
        """Whether the bot (not a person, nor the wait for one) has the conversation."""
        async with self._store.transaction(readonly=True) as tx:
            conversation = await tx.conversations.get(conversation_id)
        return conversation is not None and bot_answers(conversation.state)

    async def ask(
        self, settings: GenerativeSettings, request: GroundingRequest
    ) -> GroundedAnswer | NoGroundedAnswer:
        """One chat completion for ``request``, validated; endpoint faults are returned."""
        headers = {"Accept": "application/json"}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        url = f"{settings.base_url.rstrip('/')}/chat/completions"
        try:
            async with asyncio.timeout(settings.timeout_seconds):
                status, raw = await self._post(url, chat_body(request, settings), headers, settings)
        except TimeoutError:
            return NoGroundedAnswer(f"no response within {settings.timeout_seconds} s")
        except httpx.HTTPError as exc:
            return NoGroundedAnswer(f"request failed ({type(exc).__name__})")
        if status != 200:
            return NoGroundedAnswer(f"endpoint answered HTTP {status}")
        if raw is None:
            return NoGroundedAnswer(f"response larger than {MAX_RESPONSE_BYTES} bytes")
        try:
            body = json.loads(raw)
        except ValueError:
            return NoGroundedAnswer("response body is not JSON")
        content = completion_content(body)
        if isinstance(content, NoGroundedAnswer):
            return content
        return validate_reply(content, request)

    async def _post(
        self,
        url: str,
        body: dict[str, object],
        headers: dict[str, str],
        settings: GenerativeSettings,
    ) -> tuple[int, bytes | None]:
        """POST ``body``; the status and the body (None when over the size limit)."""
        timeout = httpx.Timeout(settings.timeout_seconds)
        async with self._http.stream(
            "POST", url, json=body, headers=headers, timeout=timeout
        ) as response:
            if response.status_code != 200:
                return response.status_code, b""
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    return response.status_code, None
                chunks.append(chunk)
        return response.status_code, b"".join(chunks)
