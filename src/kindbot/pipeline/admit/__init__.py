"""Admit: every proposed message is decided by the guard and audited before the outbox."""
