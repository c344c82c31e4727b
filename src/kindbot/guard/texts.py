"""Texts the guard itself sends or writes, in Chinese and English."""

from __future__ import annotations

OPT_OUT_CONFIRM_ZH = "您已退订，我们不会再主动给您发消息。如需重新订阅，请回复“订阅”。"
OPT_OUT_CONFIRM_EN = (
    "You have unsubscribed: we will not message you first any more. Reply START to subscribe again."
)
OPT_IN_CONFIRM_ZH = "您已重新订阅，我们会在您同意的范围内通知您。随时回复“退订”即可取消。"
OPT_IN_CONFIRM_EN = (
    "You are subscribed again; we will only send what you agreed to. Reply STOP at any time."
)
DISCLOSURE_ZH = "（我是智能客服助手，由 AI 自动回复；需要真人请回复“人工”。）"
DISCLOSURE_EN = "(I am an AI assistant and my replies are automated; reply 'human' for a person.)"
