"""A tenant handler that repeats what the customer typed (used by the standing tests)."""

from __future__ import annotations

from kindbot.dialogue.handlers import Bot, Message

bot = Bot()


@bot.on_message(regex=r"^查询\s*\S+")
def lookup(message: Message) -> str:
    """Echoes the customer's words inside the tenant's own sentence."""
    return f"您查询的是：{message.text.removeprefix('查询').strip()}，我们会尽快核实。"


@bot.on_message(equals="推荐")
def recommend(message: Message) -> str:
    """The tenant's own words: they contain the tenant-denied term."""
    return "推荐您试试黑彩票，稳赚不赔。"
