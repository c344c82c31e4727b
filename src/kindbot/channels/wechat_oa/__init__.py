"""WeChat Official Account (公众号) channel.

The pure core: :mod:`.messages` turns parsed XML fields into frozen message
types and :class:`kindbot.core.events.InboundEvent`; :mod:`.codec` verifies,
decrypts and parses callbacks and renders (and seals) passive replies.
Neither does I/O.
"""
