"""Receive: a message arrives, is stored once (dedupe), screened and walked through the turn."""
