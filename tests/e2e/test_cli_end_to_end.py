"""The ``kindbot`` command line, run as a user runs it, in this process
(``tests/support/cli.py``: the console script's app, its exit status and output).

Every command runs with ``KINDBOT_DATA_DIR`` in a
temporary directory, no ``KINDBOT_SECRET_KEY`` (the key is generated into the
data dir) and no ``KINDBOT_DATABASE_URL`` (SQLite in the data dir). Results
are read from the output and, where the output cannot prove "nothing changed",
from the SQLite file with the stdlib ``sqlite3`` module.

Data dirs are shared per module where tests cannot disturb each other
(``first_apply``/``demo_dir`` is only read; ``import_dir`` tests each check
only their own changes; ``chat_session`` is copied before it is tampered with);
other tests that change data work on their own directory.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Sequence
from contextlib import closing
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from tests.support.cli import KINDBOT, CliRun, kindbot

DEMO_SOURCE = Path(str(resources.files("kindbot.demo")))
TENANT = "teashop"
DEMO_ENTRIES = 29
COMMANDS = (
    "demo",
    "serve",
    "worker",
    "migrate",
    "apply",
    "chat",
    "send",
    "kb",
    "audit",
    "tenant",
    "guard",
    "broadcast",
    "tag",
    "campaign",
    "admin",
    "consent",
    "contact",
    "moderate",
    "moderation",
    "agent",
    "user",
)
SUBCOMMANDS = (
    "user add",
    "user grant",
    "user revoke",
    "user list",
    "agent add",
    "agent list",
    "agent online",
    "agent offline",
    "kb import",
    "kb query",
    "kb eval",
    "kb tune",
    "kb unanswered",
    "audit verify",
    "audit export",
    "tenant list",
    "tenant approve",
    "tenant suspend",
    "tenant reinstate",
    "guard plan",
    "guard explain",
    "guard standing",
    "broadcast create",
    "broadcast approve",
    "campaign create",
    "campaign list",
    "campaign show",
    "campaign submit",
    "campaign approve",
    "campaign cancel",
    "campaign report",
    "tag add",
    "tag remove",
    "tenant api-key create",
    "tenant api-key list",
    "tenant api-key revoke",
    "admin token",
    "consent grant",
    "consent withdraw",
    "consent list",
    "contact export",
    "contact erase",
    "moderation terms",
    "moderation terms list",
    "moderation terms add",
    "moderation terms remove",
    "moderation train",
    "moderation eval",
)
KB_COUNTS = re.compile(r"knowledge: (\d+) created, (\d+) updated, (\d+) unchanged")


# ---------------------------------------------------------------- helpers


def succeeded(result: CliRun) -> CliRun:
    """``result``, after asserting it exited 0 (showing its output when it did not)."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


def failed_cleanly(result: CliRun) -> str:
    """stderr of a run that exited non-zero with a message (not a crash)."""
    assert result.returncode != 0, f"unexpectedly succeeded:\n{result.stdout}"
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error:"), result.stderr
    return result.stderr


def copy_demo(into: Path) -> Path:
    """A copy of the demo bundle and its knowledge file in ``into``; the bundle's path."""
    into.mkdir(parents=True, exist_ok=True)
    for name in ("bundle.yaml", "faq.csv"):
        shutil.copyfile(DEMO_SOURCE / name, into / name)
    return into / "bundle.yaml"


def kb_counts(stdout: str) -> tuple[int, int, int]:
    """(created, updated, unchanged) knowledge entries from an apply report."""
    found = KB_COUNTS.search(stdout)
    assert found, stdout
    created, updated, unchanged = (int(n) for n in found.groups())
    return created, updated, unchanged


def query_db(data_dir: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(data_dir / "kindbot.db")) as conn:
        return conn.execute(sql, params).fetchall()


def change_db(data_dir: Path, sql: str, params: Sequence[Any] = ()) -> int:
    """Run one modifying statement (committed); the number of rows it touched."""
    with closing(sqlite3.connect(data_dir / "kindbot.db")) as conn, conn:
        return conn.execute(sql, params).rowcount


def row_counts(data_dir: Path) -> dict[str, int]:
    """Rows in the tables an apply writes (all zero when there is no database yet)."""
    tables = ("tenants", "channels", "knowledge_entries")
    if not (data_dir / "kindbot.db").exists():
        return dict.fromkeys(tables, 0)
    return {t: query_db(data_dir, f"SELECT count(*) FROM {t}")[0][0] for t in tables}


def snapshot(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything an apply may change, for before/after comparisons."""
    return {
        "tenants": query_db(data_dir, "SELECT * FROM tenants ORDER BY slug"),
        "channels": query_db(data_dir, "SELECT * FROM channels ORDER BY public_id"),
        "knowledge": query_db(
            data_dir, "SELECT * FROM knowledge_entries ORDER BY tenant_id, entry_id"
        ),
    }


def write_csv(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def demo_answer(entry_id: str) -> str:
    with (DEMO_SOURCE / "faq.csv").open(encoding="utf-8", newline="") as f:
        return next(row["answer"] for row in csv.DictReader(f) if row["id"] == entry_id)


def bot_messages(stdout: str) -> list[str]:
    """The bot's replies in a ``kindbot chat`` transcript (a reply may span lines)."""
    return [part.strip() for part in stdout.split("bot> ")[1:]]


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def first_apply(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, CliRun]:
    """A data dir with the demo bundle applied once, and the output of that apply."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    return data_dir, succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))


@pytest.fixture
def demo_dir(first_apply: tuple[Path, CliRun]) -> Path:
    """The shared demo data dir (tests must only read it)."""
    return first_apply[0]


@pytest.fixture(scope="module")
def import_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo data dir for the ``kb import`` tests (each checks only its own changes)."""
    data_dir = tmp_path_factory.mktemp("import") / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    return data_dir


@pytest.fixture(scope="module")
def chat_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, CliRun]:
    """A demo data dir after one terminal chat (so its audit log has entries)."""
    data_dir = tmp_path_factory.mktemp("chat") / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    succeeded(kindbot("tenant", "approve", TENANT, "--reason", "e2e", data_dir=data_dir))
    chat = kindbot(
        "chat", "--tenant", TENANT, data_dir=data_dir, input="运费多少钱\n什么时候发货\n退订\n"
    )
    return data_dir, chat


@pytest.fixture
def tampered_dir(chat_session: tuple[Path, CliRun], tmp_path: Path) -> Path:
    """A private copy of the chatted data dir, to tamper with."""
    copy = tmp_path / "data"
    shutil.copytree(chat_session[0], copy)
    return copy


# ---------------------------------------------------------------- help


def test_help_lists_every_command(tmp_path: Path) -> None:
    """The installed console script itself, in a real process (the one subprocess here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KINDBOT_")}
    result = subprocess.run(
        [str(KINDBOT), "--help"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**env, "KINDBOT_DATA_DIR": str(tmp_path / "data"), "PYTHONUTF8": "1"},
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "data").exists(), "--help must not create a data dir"
    for command in COMMANDS:
        assert re.search(rf"^[│|\s]*{command}\s", result.stdout, re.MULTILINE), result.stdout


def test_every_command_has_help(tmp_path: Path) -> None:
    commands = [c.split() for c in (*COMMANDS, *SUBCOMMANDS)]
    results = [kindbot(*c, "--help", data_dir=tmp_path / "data") for c in commands]
    for command, result in zip(commands, results, strict=True):
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage: kindbot " + " ".join(command) in result.stdout, (command, result.stdout)
    assert not (tmp_path / "data").exists(), "--help must not create a data dir"


# ---------------------------------------------------------------- migrate


def test_migrate_prints_the_revision(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = succeeded(kindbot("migrate", data_dir=data_dir))
    revision = re.search(r"database at revision (\S+)", result.stdout)
    assert revision, result.stdout
    assert revision.group(1) != "None"
    assert query_db(data_dir, "SELECT version_num FROM alembic_version") == [(revision.group(1),)]
    assert (data_dir / "secret.key").exists(), "the secret key is generated into the data dir"


# ---------------------------------------------------------------- apply


def test_apply_demo_creates_tenant_channels_and_knowledge(
    first_apply: tuple[Path, CliRun],
) -> None:
    data_dir, result = first_apply
    assert f"tenant {TENANT}: created" in result.stdout
    created = re.search(r"channels created: (.+)", result.stdout)
    assert created, result.stdout
    assert set(created.group(1).split(", ")) >= {"web", "hook"}
    assert kb_counts(result.stdout) == (DEMO_ENTRIES, 0, 0)
    assert query_db(data_dir, "SELECT slug, name FROM tenants") == [(TENANT, "山间茶舍")]
    assert {"teashop.web", "teashop.hook"} <= {
        r[0] for r in query_db(data_dir, "SELECT public_id FROM channels")
    }
    assert row_counts(data_dir)["knowledge_entries"] == DEMO_ENTRIES


def test_apply_again_changes_nothing(demo_dir: Path) -> None:
    before = snapshot(demo_dir)
    result = succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=demo_dir))
    assert f"tenant {TENANT}: unchanged" in result.stdout
    assert "channels unchanged: " in result.stdout
    assert "channels created" not in result.stdout
    assert "channels updated" not in result.stdout
    assert kb_counts(result.stdout) == (0, 0, DEMO_ENTRIES)
    assert snapshot(demo_dir) == before


VALID_TENANT = "tenant:\n  slug: acme\n  name: Acme Tea\n  industry: retail\n"

INVALID_BUNDLES = {
    "bad channel type": (
        VALID_TENANT + "channels:\n  - id: web\n    type: webchat\n  - id: sms\n    type: sms\n",
        9,
        "channels[1].type",
        "'sms'",
    ),
    "short webhook secret": (
        VALID_TENANT + "channels:\n"
        "  - id: web\n"
        "    type: webchat\n"
        "  - id: hook\n"
        "    type: webhook\n"
        "    secret: too-short\n",
        10,
        "channels[1].secret",
        "at least 16 characters",
    ),
    "missing tenant name": (
        "tenant:\n  slug: acme\n  industry: retail\nchannels:\n  - {id: web, type: webchat}\n",
        2,
        "tenant.name",
        "Field required",
    ),
    "invalid yaml": (
        "tenant:\n  slug: acme\n  name: [Acme\n  industry: retail\n",
        4,
        "",
        "not valid YAML",
    ),
}


@pytest.mark.parametrize("case", INVALID_BUNDLES, ids=list(INVALID_BUNDLES))
def test_invalid_bundle_is_rejected_whole(case: str, tmp_path: Path) -> None:
    text, line, location, problem = INVALID_BUNDLES[case]
    bundle = tmp_path / "shop.yaml"
    bundle.write_text(text, encoding="utf-8")
    data_dir = tmp_path / "data"
    stderr = failed_cleanly(kindbot("apply", bundle, data_dir=data_dir))
    message = next((m for m in stderr.splitlines() if "shop.yaml" in m), "")
    assert f"shop.yaml, line {line}" in message, stderr
    assert location in message, stderr
    assert problem in message, stderr
    assert row_counts(data_dir) == {"tenants": 0, "channels": 0, "knowledge_entries": 0}


def test_every_bundle_problem_is_reported_at_once(tmp_path: Path) -> None:
    bundle = tmp_path / "shop.yaml"
    bundle.write_text(
        "tenant:\n  slug: Not A Slug\n  name: Acme\n  industry: retail\n"
        "channels:\n  - {id: hook, type: webhook, secret: short}\n",
        encoding="utf-8",
    )
    stderr = failed_cleanly(kindbot("apply", bundle, data_dir=tmp_path / "data"))
    assert "line 2, tenant.slug" in stderr
    assert "line 6, channels[0].secret" in stderr


def test_bad_knowledge_row_applies_nothing_from_the_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "shop.yaml"
    bundle.write_text(
        VALID_TENANT + "channels:\n  - {id: web, type: webchat}\nknowledge:\n  - file: faq.csv\n",
        encoding="utf-8",
    )
    write_csv(
        tmp_path / "faq.csv",
        [
            ["id", "question", "answer"],
            ["a", "运费怎么算？", "满 99 元包邮。"],
            ["b", "多久发货？", "当天发。"],
            ["c", "用什么快递？", "顺丰。"],
            ["d", "能退货吗？", ""],
        ],
    )
    data_dir = tmp_path / "data"
    stderr = failed_cleanly(kindbot("apply", bundle, data_dir=data_dir))
    assert re.search(r"faq\.csv, row 5, answer: is empty", stderr), stderr
    assert row_counts(data_dir) == {"tenants": 0, "channels": 0, "knowledge_entries": 0}
    assert "no tenant 'acme'" in failed_cleanly(
        kindbot("kb", "query", "--tenant", "acme", "运费", data_dir=data_dir)
    )


def test_failed_reapply_leaves_the_applied_bundle_untouched(tmp_path: Path) -> None:
    bundle = copy_demo(tmp_path / "bundle")
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", bundle, data_dir=data_dir))
    before = snapshot(data_dir)

    # The next version renames the shop, adds a channel, edits an answer and
    # breaks row 5: none of it may land.
    text = bundle.read_text(encoding="utf-8")
    changed = text.replace("  name: 山间茶舍\n", "  name: 山间茶舍 新店\n").replace(
        "knowledge:\n", "  - {id: web2, type: webchat}\nknowledge:\n"
    )
    assert changed.count("新店") == 1
    assert "web2" in changed
    bundle.write_text(changed, encoding="utf-8")
    faq = bundle.parent / "faq.csv"
    with faq.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[1][2] = "全场包邮！"  # row 2: an edit that would otherwise apply
    rows[4][2] = ""  # row 5: the bad one
    write_csv(faq, rows)

    stderr = failed_cleanly(kindbot("apply", bundle, data_dir=data_dir))
    assert re.search(r"faq\.csv, row 5, answer: is empty", stderr), stderr
    assert snapshot(data_dir) == before
    shipping = json.loads(
        succeeded(
            kindbot("kb", "query", "--tenant", TENANT, "--json", "运费怎么算", data_dir=data_dir)
        ).stdout
    )
    assert shipping["answer"] == demo_answer("shipping-fee")


# ---------------------------------------------------------------- kb import


def test_kb_import_adds_and_updates_entries(import_dir: Path, tmp_path: Path) -> None:
    data_dir = import_dir
    extra = write_csv(
        tmp_path / "extra.csv",
        [
            ["id", "question", "answer", "similar", "tags"],
            [
                "gift-card",
                "可以用礼品卡吗？",
                "可以，结账时输入礼品卡卡号即可。",
                "礼品卡怎么用",
                "支付",
            ],
            [
                "pu-erh-age",
                "普洱茶越陈越好吗？",
                "存放得当的普洱会越陈越香，但不是无限。",
                "",
                "茶知识",
            ],
            ["shipping-fee", "运费怎么算？", "全场包邮。", "", "物流"],
        ],
    )
    result = succeeded(kindbot("kb", "import", extra, "--tenant", TENANT, data_dir=data_dir))
    assert re.search(rf"{TENANT}: 2 created, 1 updated, 0 unchanged", result.stdout), result.stdout
    assert row_counts(data_dir)["knowledge_entries"] == DEMO_ENTRIES + 2

    again = succeeded(kindbot("kb", "import", extra, "--tenant", TENANT, data_dir=data_dir))
    assert f"{TENANT}: 0 created, 0 updated, 3 unchanged" in again.stdout

    answers = [
        json.loads(line)
        for line in succeeded(
            kindbot(
                "kb",
                "query",
                "--tenant",
                TENANT,
                "--json",
                data_dir=data_dir,
                input="可以用礼品卡吗\n运费怎么算\n",
            )
        ).stdout.splitlines()
    ]
    assert [(a["id"], a["answer"]) for a in answers] == [
        ("gift-card", "可以，结账时输入礼品卡卡号即可。"),
        ("shipping-fee", "全场包邮。"),
    ]


def test_kb_import_with_errors_imports_nothing(import_dir: Path, tmp_path: Path) -> None:
    data_dir = import_dir
    before = snapshot(data_dir)
    broken = write_csv(
        tmp_path / "broken.csv",
        [
            ["id", "question", "answer"],
            ["gift-card", "可以用礼品卡吗？", "可以。"],
            ["no-question", "", "孤零零的答案。"],
            ["bad id!", "还有问题吗？", "有。"],
            ["shipping-fee", "运费怎么算？", "全场包邮。"],
        ],
    )
    stderr = failed_cleanly(kindbot("kb", "import", broken, "--tenant", TENANT, data_dir=data_dir))
    assert "nothing was imported" in stderr
    assert re.search(r"broken\.csv, row 3, question: is empty", stderr), stderr
    assert re.search(r"broken\.csv, row 4, id: 'bad id!' is not a valid id", stderr), stderr
    assert snapshot(data_dir) == before


def test_kb_import_message_is_not_read_as_markup(tmp_path: Path) -> None:
    # Ids like "[/x]" are invalid; the error naming them must not crash the CLI.
    data_dir = tmp_path / "data"
    odd = write_csv(tmp_path / "odd.csv", [["id", "question", "answer"], ["[/x]", "问题", "答案"]])
    stderr = failed_cleanly(kindbot("kb", "import", odd, "--tenant", TENANT, data_dir=data_dir))
    assert "odd.csv, row 2, id: '[/x]' is not a valid id" in stderr


# ---------------------------------------------------------------- kb query


def test_kb_query_json_from_arguments(demo_dir: Path) -> None:
    result = succeeded(
        kindbot(
            "kb",
            "query",
            "--tenant",
            TENANT,
            "--json",
            "运费怎么算",
            "quantum chromodynamics lecture notes",
            data_dir=demo_dir,
        )
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    rows = [json.loads(line) for line in lines]
    for row in rows:
        assert set(row) == {
            "query",
            "id",
            "question",
            "score",
            "answer",
            "decision",
            "candidates",
        }
        assert isinstance(row["score"], float | int)
    known, unknown = rows
    assert known["decision"] == "answer"
    assert known["candidates"][0]["id"] == "shipping-fee"
    assert unknown["decision"] in {"clarify", "fallback"}
    assert known["query"] == "运费怎么算"
    assert known["id"] == "shipping-fee"
    assert known["answer"] == demo_answer("shipping-fee")
    assert unknown["query"] == "quantum chromodynamics lecture notes"
    assert unknown["id"] is None
    assert unknown["answer"] is None
    assert unknown["score"] < known["score"]


def test_kb_query_json_from_stdin(demo_dir: Path) -> None:
    queries = ["运费怎么算", "什么时候发货", "quantum chromodynamics lecture notes"]
    result = succeeded(
        kindbot(
            "kb",
            "query",
            "--tenant",
            TENANT,
            "--json",
            data_dir=demo_dir,
            input="\n".join([queries[0], "", *queries[1:]]) + "\n",
        )
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["query"] for r in rows] == queries
    assert [r["id"] for r in rows] == ["shipping-fee", "ship-time", None]


def test_kb_query_plain_output(demo_dir: Path) -> None:
    result = succeeded(
        kindbot("kb", "query", "--tenant", TENANT, "运费怎么算", "[/x] 量子", data_dir=demo_dir)
    )
    first, second = result.stdout.split("\n", 1)
    assert "shipping-fee" in first
    assert "[/x] 量子" in second
    assert "not sure" in second


# ---------------------------------------------------------------- kb eval


def test_kb_eval_prints_accuracy(demo_dir: Path, tmp_path: Path) -> None:
    labelled = write_csv(
        tmp_path / "labelled.csv",
        [
            ["query", "expected"],
            ["运费多少钱", "shipping-fee"],
            ["什么时候发货", "ship-time"],
            ["用什么快递？", "courier"],
            ["quantum chromodynamics lecture notes", "NONE"],
        ],
    )
    result = succeeded(kindbot("kb", "eval", labelled, "--tenant", TENANT, data_dir=demo_dir))

    def figure(label: str) -> str:
        found = re.search(re.escape(label) + r"[\s│|]+(\S+)", result.stdout)
        assert found, (label, result.stdout)
        return found.group(1)

    assert figure("queries") == "4"
    assert figure("top-1 accuracy (in scope)") == "1.000"
    assert figure("fallback recall (out of scope)") == "1.000"
    assert float(figure("fallback precision")) <= 1.0
    assert figure("wrong answers") == "0"


def test_kb_eval_bad_file_names_row_and_column(demo_dir: Path, tmp_path: Path) -> None:
    labelled = write_csv(
        tmp_path / "labelled.csv", [["query", "expected"], ["运费多少钱", ""], ["", "ship-time"]]
    )
    stderr = failed_cleanly(kindbot("kb", "eval", labelled, "--tenant", TENANT, data_dir=demo_dir))
    assert "labelled.csv, row 2, expected" in stderr
    assert "labelled.csv, row 3, query" in stderr


def test_kb_tune_stores_the_threshold_that_kb_query_then_uses(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    labelled = write_csv(
        tmp_path / "labelled.csv",
        [
            ["query", "expected"],
            ["运费多少钱", "shipping-fee"],
            ["什么时候发货", "ship-time"],
            ["今天天气怎么样", "NONE"],
            ["quantum chromodynamics lecture notes", "NONE"],
        ],
    )
    dry = succeeded(kindbot("kb", "tune", labelled, "--dry-run", data_dir=data_dir))
    assert "would be" in dry.stdout
    assert query_db(data_dir, "SELECT count(*) FROM kb_tuning")[0][0] == 0

    result = succeeded(kindbot("kb", "tune", labelled, "--tenant", TENANT, data_dir=data_dir))
    found = re.search(r"threshold is now (\d\.\d\d) \(was 0\.40\)", result.stdout)
    assert found, result.stdout
    stored = query_db(data_dir, "SELECT threshold, cases, accuracy FROM kb_tuning")
    assert stored == [(float(found.group(1)), 4, 1.0)]
    row = json.loads(
        succeeded(
            kindbot(
                "kb", "query", "--json", "--threshold", "0.999", "运费多少钱", data_dir=data_dir
            )
        ).stdout
    )
    assert row["id"] is None, "an explicit --threshold still overrides the tuned one"


def test_kb_unanswered_groups_the_questions_the_bot_fell_back_on(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    succeeded(kindbot("tenant", "approve", TENANT, "--reason", "e2e", data_dir=data_dir))
    # No entry says where a shop is: asked twice by one customer, once in English by another.
    asked = "你们有实体店吗\n你们有没有实体店\n运费多少钱\n你们老板叫什么名字\n"
    succeeded(kindbot("chat", "--tenant", TENANT, data_dir=data_dir, input=asked))
    english = "do you have a physical store?\n"
    succeeded(kindbot("chat", "--user", "carol", data_dir=data_dir, input=english))
    # Flow answers (a phone number, a date, a choice), the flow's trigger, an
    # opt-out word and a person request are not questions for the knowledge base;
    # nor, outside a flow, a phone number, a bare number (a pick) or an emoji.
    not_questions = "请给我回电\n13800138000\n明天\n2\n人工\n退订\n"
    flow = kindbot(
        "chat", "--tenant", TENANT, "--user", "bob", data_dir=data_dir, input=not_questions
    )
    assert "已记下" in succeeded(flow).stdout, "the callback flow ran to its answer"
    bare = "13912345678\n２\n👍\n"
    succeeded(kindbot("chat", "--user", "dave", data_dir=data_dir, input=bare))

    result = succeeded(kindbot("kb", "unanswered", "--json", "--since", "1d", data_dir=data_dir))
    groups = [json.loads(line) for line in result.stdout.splitlines()]
    assert (groups[0]["count"], groups[0]["customers"]) == (3, 2), "one customer asked twice"
    assert set(groups[0]["examples"]) == {
        "你们有实体店吗",
        "你们有没有实体店",
        "do you have a physical store?",
    }, "grouped by meaning, across languages"
    assert all(g["nearest"] is None or isinstance(g["nearest_score"], float) for g in groups)
    assert sum(g["count"] for g in groups) == 4, "the answered question is not listed"
    assert not any("运费" in e for g in groups for e in g["examples"])
    listed = {e for g in groups for e in g["examples"]}
    assert not listed & {"请给我回电", "13800138000", "明天", "2", "人工", "退订"}
    assert not listed & {"13912345678", "２", "👍"}

    table = succeeded(kindbot("kb", "unanswered", data_dir=data_dir)).stdout
    assert "4 unanswered questions from 2 customers" in table
    assert "nearest entry" in table
    later = succeeded(
        kindbot("kb", "unanswered", "--since", "2999-01-01", data_dir=data_dir)
    ).stdout
    assert "no unanswered questions" in later
    bad = failed_cleanly(kindbot("kb", "unanswered", "--since", "soon", data_dir=data_dir))
    assert "--since" in bad
    apart = succeeded(kindbot("kb", "unanswered", "--json", "--similarity", "1", data_dir=data_dir))
    assert len(apart.stdout.splitlines()) == 4, "at cosine 1 every distinct text is its own group"


# ---------------------------------------------------------------- chat


def test_chat_answers_discloses_ai_once_and_confirms_opt_out(
    chat_session: tuple[Path, CliRun],
) -> None:
    result = succeeded(chat_session[1])
    replies = bot_messages(result.stdout)
    assert len(replies) == 3, result.stdout
    shipping, ship_time, opt_out = replies
    assert demo_answer("shipping-fee") in shipping
    assert "AI" in shipping
    assert demo_answer("ship-time") in ship_time
    assert "AI" not in ship_time
    assert "AI" not in opt_out
    assert "退订" in opt_out
    assert result.stdout.count("AI") == 1


# ---------------------------------------------------------------- audit


def test_audit_verify_after_chat_is_ok(
    chat_session: tuple[Path, CliRun],
) -> None:
    data_dir = chat_session[0]
    entries = query_db(data_dir, "SELECT count(*) FROM audit_entries")[0][0]
    assert entries >= 3
    for args in (("audit", "verify"), ("audit", "verify", "--tenant", TENANT)):
        result = succeeded(kindbot(*args, data_dir=data_dir))
        assert re.search(rf"{TENANT}: ok, {entries} entries verified", result.stdout), result.stdout


def _tenant_seqs(data_dir: Path) -> list[int]:
    rows = query_db(
        data_dir,
        "SELECT seq FROM audit_entries WHERE tenant_id = "
        "(SELECT id FROM tenants WHERE slug = ?) ORDER BY seq",
        [TENANT],
    )
    seqs = [r[0] for r in rows]
    assert len(seqs) >= 3
    return seqs


def _verify_fails(data_dir: Path) -> str:
    stderr = failed_cleanly(kindbot("audit", "verify", "--tenant", TENANT, data_dir=data_dir))
    assert stderr.count(f"{TENANT}: entry ") == 1, stderr
    return stderr


def test_audit_verify_names_an_edited_entry(tampered_dir: Path) -> None:
    seq = _tenant_seqs(tampered_dir)[1]
    assert change_db(
        tampered_dir,
        'UPDATE audit_entries SET detail = \'{"reason_en": "nothing to see"}\' WHERE seq = ?',
        [seq],
    )
    stderr = _verify_fails(tampered_dir)
    assert f"entry {seq}: content does not match its hash (edited)" in stderr


def test_audit_verify_names_the_entry_after_a_deleted_one(tampered_dir: Path) -> None:
    seqs = _tenant_seqs(tampered_dir)
    assert change_db(tampered_dir, "DELETE FROM audit_entries WHERE seq = ?", [seqs[1]])
    stderr = _verify_fails(tampered_dir)
    assert f"entry {seqs[2]}: expected entry {seqs[1]}, found {seqs[2]}" in stderr


def test_audit_verify_detects_a_truncated_log(tampered_dir: Path) -> None:
    seqs = _tenant_seqs(tampered_dir)
    assert change_db(tampered_dir, "DELETE FROM audit_entries WHERE seq = ?", [seqs[-1]])
    stderr = _verify_fails(tampered_dir)
    assert f"entry {seqs[-1]}: the log ends at entry {seqs[-2]}" in stderr
    assert "truncated" in stderr


# ---------------------------------------------------------------- unknown tenant


@pytest.mark.parametrize(
    "command",
    [("kb", "query", "运费"), ("chat",), ("audit", "verify")],
    ids=["kb query", "chat", "audit verify"],
)
def test_unknown_tenant_is_a_clear_error(command: tuple[str, ...], demo_dir: Path) -> None:
    result = kindbot(*command, "--tenant", "nosuchshop", data_dir=demo_dir, input="你好\n")
    stderr = failed_cleanly(result)
    assert "no tenant 'nosuchshop'" in stderr
    assert "kindbot apply" in stderr


# ---------------------------------------------------------------- guard, send, broadcast


def test_proactive_sends_from_the_command_line_go_through_the_guard(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    succeeded(kindbot("apply", DEMO_SOURCE / "bundle.yaml", data_dir=data_dir))
    succeeded(kindbot("tenant", "approve", TENANT, "--reason", "e2e", data_dir=data_dir))
    succeeded(kindbot("chat", "--user", "ann", data_dir=data_dir, input="运费多少钱\n"))
    who = ("--channel", "console", "--user", "ann")

    refused = kindbot("send", *who, "--topic", "news", "--text", "上新了", data_dir=data_dir)
    assert refused.returncode == 2, refused.stderr
    assert "deny (consent)" in refused.stdout

    tagged = succeeded(kindbot("tag", "add", "vip", *who, data_dir=data_dir))
    assert "tagged 1 contact(s)" in tagged.stdout
    planned = succeeded(
        kindbot(
            "guard",
            "plan",
            "--tag",
            "vip",
            "--topic",
            "news",
            "--text",
            "上新了",
            "--json",
            data_dir=data_dir,
        )
    )
    plan = json.loads(planned.stdout)
    assert (plan["total"], plan["denied"]) == (1, 1)
    assert plan["lines"][0]["rule"] == "consent"
    assert plan["lines"][0]["samples"] == ["ann"]
    explained = succeeded(
        kindbot(
            "guard", "explain", *who, "--kind", "proactive", "--topic", "news", data_dir=data_dir
        )
    )
    for rule in ("tenant_status", "window", "consent", "frequency", "quiet_hours"):
        assert rule in explained.stdout
    standing = succeeded(kindbot("guard", "standing", data_dir=data_dir))
    assert "standing ok, violation score 5" in standing.stdout

    unknown = failed_cleanly(
        kindbot(
            "send",
            "--channel",
            "console",
            "--user",
            "nobody",
            "--topic",
            "news",
            "--text",
            "x",
            data_dir=data_dir,
        )
    )
    assert "no contact 'nobody'" in unknown
    assert query_db(data_dir, "SELECT count(*) FROM contacts WHERE external_id = 'nobody'") == [
        (0,)
    ]
