"""Test and demo helpers that stand in for third-party services.

Nothing here is used by kindbot in production; ``kindbot.testing.wechat_api``
is a local, in-process simulator of the documented WeChat and WeCom server APIs
so that API clients, tests and the demo run without a real account.
"""
