"""Pins the public API: changing it must be a deliberate edit of this list."""

from __future__ import annotations

import kindbot

EXPECTED = {
    "BadRequestError", "ChannelAdapter", "Clock", "Container", "Decision", "DeliveryOutcome",
    "DeliveryRequest", "DeliveryStatus", "FeedResult", "InboundAction", "InboundDecision",
    "InboundEvent", "InboundKind", "InputFileError", "InputProblem", "KindbotError",
    "KnowledgeEntry", "NotFoundError", "OutboundAction", "OutboundDecision", "OutboundReply",
    "PayloadTooLargeError", "ReplyOrigin", "SendKind", "SentReply", "Settings", "Severity",
    "SignatureError", "Store", "Transaction", "Verdict", "__version__", "build_container",
    "open_container",
}  # fmt: skip


def test_public_api_is_pinned() -> None:
    assert set(kindbot.__all__) == EXPECTED
    for name in kindbot.__all__:
        assert hasattr(kindbot, name), name


def test_events_are_frozen() -> None:
    import dataclasses

    from kindbot.core.events import InboundEvent, OutboundReply, Verdict

    for cls in (InboundEvent, OutboundReply, Verdict):
        params = cls.__dataclass_params__  # type: ignore[attr-defined]
        assert params.frozen, cls
        assert dataclasses.is_dataclass(cls)
