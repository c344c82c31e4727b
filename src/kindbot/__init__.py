"""kindbot: chatbots that serve customers on official messaging channels, never spam.

The public API is the contracts (events, records, Protocols, errors) and the
composition root; everything else is internal and may change.
"""

from kindbot.bootstrap import Container, build_container, open_container
from kindbot.errors import (
    BadRequestError,
    InputFileError,
    InputProblem,
    KindbotError,
    NotFoundError,
    PayloadTooLargeError,
    SignatureError,
)
from kindbot.events import (
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
from kindbot.records import KnowledgeEntry
from kindbot.settings import Settings
from kindbot.types import ChannelAdapter, Clock, Store, Transaction

__version__ = "0.1.0"

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
