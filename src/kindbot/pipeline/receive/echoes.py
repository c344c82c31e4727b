"""What a reply may echo of the customer's own words (never charged to the shop).

A reply that repeats the customer's text or a flow slot they filled in carries
the customer's words, not the tenant's: ``guard/attribution.py`` blanks these
before deciding whether a content denial counts against the shop.
"""

from __future__ import annotations

from kindbot.core.records.conversations import MessageRecord
from kindbot.dialogue.flow_specs import RESPONSE_PREFIX
from kindbot.pipeline.decide.flows import FlowTurn


def customer_text(message: MessageRecord, flowed: FlowTurn | None) -> tuple[str, ...]:
    """What the customer typed that a reply to ``message`` may echo: the message and slot values.

    Endpoint responses (``response.*``) are not the customer's: they stay the tenant's.
    """
    texts = [message.text]
    if flowed is not None:
        for state in (flowed.before, flowed.after):
            if state is not None:
                texts += [v for k, v in state.slots if not k.startswith(RESPONSE_PREFIX)]
    return tuple(texts)
