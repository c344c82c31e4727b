"""Secrets at rest: channel configurations are sealed with the server key.

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) gives authenticated
encryption, so a tampered or foreign ciphertext fails loudly instead of
decrypting to garbage.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

KEY_FILE = "secret.key"


class SealError(Exception):
    """A sealed value could not be opened with this server's key."""


class SecretBox:
    """Seals and opens strings with one server key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise SealError("sealed value does not open with this server key") from exc


def load_or_create_key(configured: str | None, data_dir: Path) -> bytes:
    """The server key: ``KINDBOT_SECRET_KEY`` if set, else ``secret.key`` in the
    data directory, generated (mode 0600) on first use."""
    if configured:
        return configured.encode("ascii")
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
