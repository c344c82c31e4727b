"""Fuzzing the JSON a stranger sends: webhook bodies and web-chat submissions (issue 13)."""

from __future__ import annotations

from hypothesis import example, given

from kindbot.channels import webchat, webhook
from kindbot.core.edge import load_json
from tests.fuzz.strategies import json_bodies, values
from tests.fuzz.support import FUZZ, parsed_or_refused
from tests.support.clock import FakeClock

NOW = FakeClock().now()


@FUZZ
@given(json_bodies())
def test_load_json(body: bytes) -> None:
    parsed_or_refused(lambda: load_json(body))


@FUZZ
@given(json_bodies())
@example(b'{"user":"u1","text":"\\ud800"}')  # issue 13
def test_webhook_parse(body: bytes) -> None:
    parsed_or_refused(lambda: webhook.parse(body, channel_public_id="s.hook", now=NOW))


@FUZZ
@given(json_bodies())
@example(b'{"text":"\\ud800","client_id":"c1"}')  # issue 13
def test_webchat_submission(body: bytes) -> None:
    def parse() -> object:
        submission = webchat.parse_submission(load_json(body))
        return webchat.to_event(submission, channel_public_id="s.web", visitor_id="v" * 32, now=NOW)

    parsed_or_refused(parse)


@FUZZ
@given(values)
def test_webchat_submission_of_any_value(document: object) -> None:
    # Callers that skip load_json (a future one) still get a code, never a crash.
    parsed_or_refused(lambda: webchat.parse_submission(document))
