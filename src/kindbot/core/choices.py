"""Numbered-choice messages: the one format the bot uses to offer options (a contract).

A choice message is a head line, ``1. …`` lines and a tail line. Every
channel can show it as text (the customer replies with a number); channels
with buttons (web chat) read the options back with :func:`numbered_choices`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

HEAD_ZH = "抱歉，我不太确定您想问的是哪一个，请回复数字选择："
HEAD_EN = "Sorry, I am not sure which of these you mean. Reply with its number:"
TAIL_ZH = "都不是？可以换个说法再问，或回复“人工”联系真人客服。"
TAIL_EN = "None of these? Rephrase your question, or reply 'human' to reach a person."

_CHOICE = re.compile(r"^(\d{1,2})\. (.+)$")


def choice_message(options: Sequence[str], *, chinese: bool) -> str:
    """The message offering ``options`` (each on one line) as numbered choices."""
    lines = [HEAD_ZH if chinese else HEAD_EN]
    lines += [f"{number}. {' '.join(option.split())}" for number, option in enumerate(options, 1)]
    lines.append(TAIL_ZH if chinese else TAIL_EN)
    return "\n".join(lines)


def numbered_choices(text: str) -> tuple[str, ...]:
    """The options a choice message offers, in order; () for any other message."""
    lines = text.split("\n")
    if lines[0] not in (HEAD_ZH, HEAD_EN):
        return ()
    options: list[str] = []
    for line in lines[1:]:
        found = _CHOICE.match(line)
        if found is None or int(found.group(1)) != len(options) + 1:
            break
        options.append(found.group(2))
    return tuple(options)
