"""The handler API: filters, explicit order, returned replies, and failures become fallbacks."""

from __future__ import annotations

import pytest
from tests.support import shop_handlers

from kindbot.core.events import InboundKind, ReplyOrigin
from kindbot.dialogue.handlers import NO_ANSWER, Bot, Message, run_handlers
from kindbot.dialogue.responder import UNSURE_EN, respond
from kindbot.dialogue.retrieval import KnowledgeIndex


def message(text: str) -> Message:
    return Message(
        text=text, tenant="shop", channel_kind="webchat", contact="v1", prefer_chinese=True
    )


def test_the_first_matching_handler_answers() -> None:
    result = run_handlers((shop_handlers.bot,), message("这个的价格是多少"))
    assert result.replies == ("价格请以商品页为准；会员另享 95 折。",)
    assert result.handler == "tests.support.shop_handlers.price"


def test_explicit_order_comes_before_registration_order() -> None:
    assert [h.name.rsplit(".", 1)[1] for h in shop_handlers.bot.handlers] == [
        "order",
        "price",
        "broken",
    ]
    result = run_handlers((shop_handlers.bot,), message("订单 12345"))
    assert result.replies == ("订单 12345 已收到。", "发货后会通知您。")


def test_no_match_passes_to_the_knowledge_base() -> None:
    assert run_handlers((shop_handlers.bot,), message("你好")) == NO_ANSWER


def test_an_exception_is_reported_not_raised() -> None:
    result = run_handlers((shop_handlers.bot,), message("BOOM"))
    assert result.replies == ()
    assert result.error == "RuntimeError: order service unreachable"


def test_a_wrong_return_type_is_an_error() -> None:
    bot = Bot()

    @bot.on_message(when=lambda m: True)
    def numbers(message: Message) -> list[int]:
        return [1, 2]

    assert run_handlers((bot,), message("x")).error is not None


def test_a_handler_needs_a_filter() -> None:
    with pytest.raises(ValueError, match="at least one filter"):
        Bot().on_message()


def test_the_responder_uses_handler_replies_and_falls_back_on_errors() -> None:
    index = KnowledgeIndex.build(())
    answered = respond(
        InboundKind.TEXT,
        "价格",
        index,
        threshold=0.5,
        prefer_chinese=True,
        handled=run_handlers((shop_handlers.bot,), message("价格")),
    )
    assert answered.replies[0].origin is ReplyOrigin.HANDLER
    failed = respond(
        InboundKind.TEXT,
        "boom",
        index,
        threshold=0.5,
        prefer_chinese=True,
        handled=run_handlers((shop_handlers.bot,), message("boom")),
    )
    assert failed.replies[0].text == UNSURE_EN  # "boom" is Latin: English
    assert failed.handler_error is not None
