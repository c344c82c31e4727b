"""kindbot: chatbots that serve customers on official messaging channels, never spam.

The public API is the contracts (events, records, Protocols, errors) and the
composition root; everything else is internal and may change.
"""

from typing import TYPE_CHECKING, Any

from kindbot.core.errors import (
    BadRequestError,
    InputFileError,
    InputProblem,
    KindbotError,
    NotFoundError,
    PayloadTooLargeError,
    SignatureError,
)
from kindbot.core.events import (
    Decision,
    DeliveryOutcome,
    DeliveryRequest,
    DeliveryStatus,
    FeedResult,
    InboundAction,
    InboundDecision,
    InboundEvent,
    InboundKind,
    OutboundAction,
    OutboundDecision,
    OutboundReply,
    ReplyOrigin,
    SendKind,
    SentReply,
    Severity,
    Verdict,
)
from kindbot.core.ports.seams import ChannelAdapter, Clock, Store, Transaction
from kindbot.core.records.knowledge import KnowledgeEntry
from kindbot.settings import Settings

if TYPE_CHECKING:
    from kindbot.bootstrap import Container, build_container, open_container

__version__ = "0.1.0"

_COMPOSITION_ROOT = {"Container", "build_container", "open_container"}


def __getattr__(name: str) -> Any:
    """The composition root is imported on first use (it pulls in every layer)."""
    if name in _COMPOSITION_ROOT:
        from kindbot import bootstrap

        return getattr(bootstrap, name)
    raise AttributeError(f"module 'kindbot' has no attribute {name!r}")


__all__ = [
    "BadRequestError",
    "ChannelAdapter",
    "Clock",
    "Container",
    "Decision",
    "DeliveryOutcome",
    "DeliveryRequest",
    "DeliveryStatus",
    "FeedResult",
    "InboundAction",
    "InboundDecision",
    "InboundEvent",
    "InboundKind",
    "InputFileError",
    "InputProblem",
    "KindbotError",
    "KnowledgeEntry",
    "NotFoundError",
    "OutboundAction",
    "OutboundDecision",
    "OutboundReply",
    "PayloadTooLargeError",
    "ReplyOrigin",
    "SendKind",
    "SentReply",
    "Settings",
    "Severity",
    "SignatureError",
    "Store",
    "Transaction",
    "Verdict",
    "__version__",
    "build_container",
    "open_container",
]
