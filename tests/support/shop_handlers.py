"""A tenant's handler module, as a developer would write one (used by the handler tests)."""

from __future__ import annotations

from kindbot.dialogue.handlers import Bot, Message

bot = Bot()


@bot.on_message(contains="价格")
def price(message: Message) -> str:
    """Answers price questions before the knowledge base."""
    return "价格请以商品页为准；会员另享 95 折。"


@bot.on_message(equals="boom")
def broken(message: Message) -> str:
    """A handler with a bug."""
    raise RuntimeError("order service unreachable")


@bot.on_message(regex=r"^订单\s*\d+$", order=-1)
def order(message: Message) -> list[str]:
    """Registered last but asked first (``order=-1``); returns two replies."""
    number = message.text.removeprefix("订单").strip()
    return [f"订单 {number} 已收到。", "发货后会通知您。"]
