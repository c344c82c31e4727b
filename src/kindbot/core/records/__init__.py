"""Stored records: what storage returns, frozen and typed, grouped by concept."""
