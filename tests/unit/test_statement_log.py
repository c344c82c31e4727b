"""The statement log drops a process's periodic checks and nothing else."""

from __future__ import annotations

from tests.support.statements import Statement, StatementLog

CHECK = "SELECT scope, generation FROM moderation_generations"


def test_only_transactions_wholly_on_the_table_are_dropped() -> None:
    log = StatementLog(
        statements=[
            Statement(1, "BEGIN"),
            Statement(1, "INSERT INTO messages VALUES (1)"),
            Statement(2, CHECK),  # PostgreSQL: a read in autocommit
            Statement(1, "COMMIT"),
            Statement(3, "BEGIN"),  # SQLite: a read-only transaction
            Statement(3, CHECK),
            Statement(3, "COMMIT"),
            Statement(4, "BEGIN"),  # a message's transaction that also reads the table
            Statement(4, CHECK),
            Statement(4, "UPDATE outbox SET status = 'x'"),
            Statement(4, "COMMIT"),
        ]
    )
    log.drop_transactions_on("moderation_generations")
    assert [(s.connection, s.verb) for s in log.statements] == [
        (1, "BEGIN"),
        (1, "INSERT"),
        (1, "COMMIT"),
        (4, "BEGIN"),
        (4, "SELECT"),
        (4, "UPDATE"),
        (4, "COMMIT"),
    ]
