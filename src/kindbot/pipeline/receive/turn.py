"""What one pipeline pass knows, and the audit entries it writes in one go."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from kindbot.channels.registry import open_config
from kindbot.core.events import Verdict
from kindbot.core.ports.seams import Transaction
from kindbot.core.records.conversations import ContactRecord
from kindbot.core.records.tenancy import ChannelRecord, TenantRecord
from kindbot.core.windows import WindowPolicy
from kindbot.guard.audit import AuditDraft
from kindbot.pipeline.directory import ResolvedChannel


@dataclass(frozen=True, slots=True)
class Turn:
    """The parties of one inbound message, loaded once and passed along."""

    tenant: TenantRecord
    channel: ChannelRecord
    contact: ContactRecord
    conversation_id: str
    window: WindowPolicy | None
    """The channel's service window for this contact (None: the channel has none)."""
    welcome: str | None = None
    recent_bot_texts: tuple[str, ...] = ()

    @property
    def prefer_chinese(self) -> bool:
        """Whether system texts default to Chinese for this tenant."""
        return self.tenant.language.startswith("zh")


def turn_for(
    resolved: ResolvedChannel, contact: ContactRecord, conversation_id: str, recent: tuple[str, ...]
) -> Turn:
    """The turn of a message from ``contact`` on the resolved channel."""
    config = open_config(resolved.channel.kind, resolved.config)
    window = config.window(contact.external_id)
    return Turn(
        resolved.tenant,
        resolved.channel,
        contact,
        conversation_id,
        window,
        config.welcome_text(),
        recent,
    )


@dataclass(slots=True)
class AuditBatch:
    """Verdicts of one transaction, written as the tenant's pending audit entries.

    One multi-row INSERT, no head read and no lock: the audit sequencer
    (``pipeline/audit_sequencer.py``) chains them after the commit, and every
    reader of the chain seals them before it reads.
    """

    tenant_id: str
    drafts: list[AuditDraft] = field(default_factory=list)

    def add(
        self,
        *,
        at: datetime,
        kind: str,
        subject: str,
        verdict: Verdict,
        checks: tuple[Verdict, ...] = (),
        generated_from: tuple[str, ...] | None = None,
    ) -> None:
        """Queue one verdict (its reasons and every rule's decision) for the chain.

        ``generated_from``: the message is model-generated text grounded on
        these knowledge entries (recorded as ``generated_from`` in the detail).
        """
        fields: dict[str, object] = {
            "reason_en": verdict.reason_en,
            "reason_zh": verdict.reason_zh,
            "checks": [[c.rule, c.decision.value] for c in checks],
        }
        if generated_from is not None:
            fields["generated_from"] = list(generated_from)
        detail = json.dumps(fields, ensure_ascii=False)
        self.drafts.append(
            AuditDraft(
                tenant_id=self.tenant_id,
                at=at,
                kind=kind,
                subject=subject,
                rule=verdict.rule,
                decision=verdict.decision.value,
                detail=detail,
            )
        )

    async def flush(self, tx: Transaction) -> None:
        """Write every queued entry pending (inside the caller's transaction)."""
        if not self.drafts:
            return
        await tx.audit.add_pending(self.drafts)
        self.drafts.clear()
