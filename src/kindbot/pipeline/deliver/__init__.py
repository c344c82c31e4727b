"""Deliver: the outbox worker sends admitted messages through their channel adapters."""
