"""WeCom (企业微信) channel: a self-built app's callback, 微信客服, and their APIs.

The pure core: :mod:`.codec` (verify, decrypt), :mod:`.messages` (app-callback
messages and events → :class:`kindbot.core.events.InboundEvent`), :mod:`.kf`
(``kf/sync_msg`` items → events). I/O lives in :mod:`.api` (the API client)
and :mod:`.adapter` (the outbox's sending edge).
"""
