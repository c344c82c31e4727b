"""Errors with stable codes.

Contract module: imports nothing of ours. Every error a user can cause carries
a machine-readable ``code`` and a human ``message``; the web layer maps them
to 4xx responses, the CLI to a non-zero exit with the message.
"""

from __future__ import annotations

from dataclasses import dataclass


class KindbotError(Exception):
    """Base class: ``code`` is stable and documented, ``message`` is for people."""

    code: str = "error"
    http_status: int = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def details(self) -> dict[str, object]:
        """Machine-readable specifics added beside ``code`` and ``message`` (JSON values)."""
        return {}


class NotFoundError(KindbotError):
    """A named thing (tenant, channel, contact) does not exist."""

    code = "not_found"
    http_status = 404


class BadRequestError(KindbotError):
    """The request is malformed (JSON, XML, missing fields)."""

    code = "bad_request"
    http_status = 400


class SignatureError(KindbotError):
    """A signed request's signature does not match."""

    code = "bad_signature"
    http_status = 403


class ConflictError(KindbotError):
    """The request contradicts what is recorded (e.g. a contact's own opt-out)."""

    code = "conflict"
    http_status = 409


class ChannelChangedError(ConflictError):
    """The channel's configuration changed after a request was verified with the old one:
    verify it again with the current one (nothing was stored)."""

    code = "channel_changed"


class PayloadTooLargeError(KindbotError):
    """A body exceeds the size limit."""

    code = "payload_too_large"
    http_status = 413


class StorageBusyError(KindbotError):
    """The database could not take the work in time (every pooled connection stayed
    busy past the pool's timeout): the server is overloaded, the request is not
    wrong. Answered 503 with ``Retry-After`` (a platform callback: 503 without a
    body, which the platform retries); never a 500 or a traceback."""

    code = "storage_busy"
    http_status = 503
    retry_after = 5
    """Seconds a caller should wait before trying again."""


class ConfigError(KindbotError):
    """The process's own configuration (environment, installed extras) is unusable."""

    code = "bad_config"
    http_status = 500


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One problem in an input file: where it is and what is wrong.

    ``row`` is 1-based as a person counts it (the header is row 1 in CSV and
    XLSX; entries count from 1 in JSON and YAML); ``location`` names the field
    or path inside the file (``question``, ``channels[1].secret``);
    ``row_label`` says what ``row`` counts ("row" in tables, "line" in YAML text).
    """

    file: str
    row: int | None
    location: str
    problem: str
    row_label: str = "row"

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", {self.row_label} {self.row}"
        if self.location:
            where += f", {self.location}"
        return f"{where}: {self.problem}"


class InputFileError(KindbotError):
    """An input file (bundle, knowledge file, eval file) has problems.

    Carries every problem found, not only the first; nothing from the file has
    been applied.
    """

    code = "invalid_file"

    def __init__(self, problems: list[InputProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
