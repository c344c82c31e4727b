"""Campaigns: proactive sends, broadcasts to a tag and their bulk guard plans."""
