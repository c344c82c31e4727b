"""The web chat channel: its page, WebSocket and live connections."""
