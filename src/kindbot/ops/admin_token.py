"""The platform admin's API token: ``KINDBOT_ADMIN_TOKEN``, else a file in the data dir."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN_FILE = "admin-token"
TOKEN_BYTES = 32


def load_or_create_admin_token(configured: str | None, data_dir: Path) -> str:
    """The configured token if set, else ``admin-token`` in ``data_dir``.

    The file is generated on first use (mode 0600, created exclusively so two
    processes starting together agree on one token). Several servers on
    different machines must share ``KINDBOT_ADMIN_TOKEN`` instead.
    """
    if configured:
        return configured
    path = data_dir / TOKEN_FILE
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    token = "kba_" + secrets.token_urlsafe(TOKEN_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its token
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
    return token
