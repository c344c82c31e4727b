"""The bundle format (DESIGN.md §8): one tenant, its channels and knowledge."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from kindbot.bundles.flow_schema import EndpointModel, FlowModel, Name
from kindbot.bundles.journeys_spec import JourneySpec
from kindbot.channels.config import ChannelConfig
from kindbot.channels.registry import channel_kind
from kindbot.channels.webchat import WebchatConfig
from kindbot.channels.webhook import WebhookConfig
from kindbot.channels.wechat_oa.config import MIN_BUNDLE_REPLY_BUDGET, OAChannelConfig
from kindbot.channels.wecom.config import WeComChannelConfig
from kindbot.contacts.attributes import MAX_ATTRIBUTES, MAX_LABEL
from kindbot.contacts.attributes import MAX_NAME as MAX_ATTRIBUTE_NAME
from kindbot.contacts.attributes import NAME_PATTERN as ATTRIBUTE_NAME
from kindbot.core.errors import BadRequestError
from kindbot.core.records.directory import AttributeDefinition, AttributeType
from kindbot.dialogue.service_hours import ServiceHours, parse_days
from kindbot.guard.policy import DEFAULT_TIMEZONE, TenantGuardSettings, tenant_policy

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"
MODULE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class AttributeSpec(_Strict):
    """``tenant.attributes[]`` — a custom contact attribute: its name, type and label."""

    name: Annotated[str, Field(pattern=ATTRIBUTE_NAME, max_length=MAX_ATTRIBUTE_NAME)]
    type: AttributeType
    label: Annotated[str, Field(min_length=1, max_length=MAX_LABEL)] | None = None

    def definition(self) -> AttributeDefinition:
        """The stored declaration (the label defaults to the name)."""
        return AttributeDefinition(self.name, self.type, self.label or self.name)


class TenantSpec(_Strict):
    """``tenant:`` — who the business is, and the custom attributes its contacts have."""

    slug: Annotated[str, Field(pattern=SLUG)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    industry: Annotated[str, Field(min_length=1, max_length=64)]
    timezone: str = "Asia/Shanghai"
    language: Literal["zh", "en"] = "zh"
    attributes: Annotated[list[AttributeSpec], Field(max_length=MAX_ATTRIBUTES)] = Field(
        default_factory=list
    )
    """Omitted: the tenant's declarations stay as they are; ``[]`` removes them all."""

    @field_validator("attributes")
    @classmethod
    def _unique_attributes(cls, value: list[AttributeSpec]) -> list[AttributeSpec]:
        seen: set[str] = set()
        for i, spec in enumerate(value):
            if spec.name in seen:
                raise ValueError(f"[{i}].name {spec.name!r} appears twice")
            seen.add(spec.name)
        return value

    @field_validator("slug")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == "platform":
            raise ValueError("slug 'platform' is reserved for the platform's own audit chain")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class WebchatSpec(WebchatConfig):
    """A web chat channel; ``title`` defaults to the tenant's name."""

    id: Annotated[str, Field(pattern=SLUG)]
    type: Literal["webchat"]


class WebhookSpec(WebhookConfig):
    """A JSON webhook channel; ``secret`` keys the HMAC signatures."""

    id: Annotated[str, Field(pattern=SLUG)]
    type: Literal["webhook"]


class WeChatOASpec(OAChannelConfig):
    """A WeChat Official Account (公众号) channel: callback + customer-service API."""

    id: Annotated[str, Field(pattern=SLUG)]
    type: Literal["wechat_oa"]

    @field_validator("reply_budget")
    @classmethod
    def _budget_can_be_met(cls, value: float) -> float:
        if value < MIN_BUNDLE_REPLY_BUDGET:
            raise ValueError(
                f"reply_budget must be at least {MIN_BUNDLE_REPLY_BUDGET} s "
                "(a passive reply is never ready sooner)"
            )
        return value


class WeComSpec(WeComChannelConfig):
    """A WeCom (企业微信) self-built app: its callback, app messages, 微信客服 and welcomes.

    ``open_kfid`` turns on 微信客服 for that account (pulled with the app's
    secret); ``welcome`` is sent, through the guard, to customers who add a member.
    """

    id: Annotated[str, Field(pattern=SLUG)]
    type: Literal["wecom"]


ChannelSpec = Annotated[
    WebchatSpec | WebhookSpec | WeChatOASpec | WeComSpec, Field(discriminator="type")
]
"""A bundle's channel: one kind's configuration model plus ``id`` and ``type``; the
kinds are exactly the registry's bundle kinds (``kindbot.channels.registry``, tested)."""


def channel_settings(spec: ChannelSpec) -> ChannelConfig:
    """The channel configuration a spec describes (without ``id`` and ``type``)."""
    model = channel_kind(spec.type).config
    return model.model_validate(spec.model_dump(exclude={"id", "type"}))


SynonymTerm = Annotated[str, Field(min_length=1, max_length=50)]


class KnowledgeSource(_Strict):
    """``knowledge[]`` — a knowledge file (relative to the bundle file), or
    ``synonyms``: groups of interchangeable terms, e.g. ``[[快递, 物流, 包裹]]``."""

    file: Annotated[str, Field(min_length=1)] | None = None
    synonyms: list[Annotated[list[SynonymTerm], Field(min_length=2, max_length=50)]] | None = None

    @model_validator(mode="after")
    def _file_or_synonyms(self) -> KnowledgeSource:
        if (self.file is None) == (self.synonyms is None):
            raise ValueError("give either file or synonyms")
        return self


class KnowledgeBaseSpec(_Strict):
    """``kb:`` — retrieval settings."""

    threshold: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None


class TestContactSpec(_Strict):
    """``test_contacts[]`` — someone a pending tenant may already message.

    ``channel`` is a channel id of this bundle (or ``console``, the terminal of
    ``kindbot chat``); ``external_id`` is the contact's id there (an OpenID, a
    webhook ``user``, ``console:alice``).
    """

    __test__ = False  # not a pytest test class, despite the name

    channel: Annotated[str, Field(pattern=SLUG)]
    external_id: Annotated[str, Field(min_length=1, max_length=200)]


class GuardSpec(_Strict):
    """``guard:`` — the tenant's own limits, which may only be stricter than the platform's."""

    quiet_hours: str | None = None
    per_contact_day: Annotated[int, Field(ge=0)] | None = None
    per_contact_month: Annotated[int, Field(ge=0)] | None = None
    human_confirm_over: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _within_platform_limits(self) -> GuardSpec:
        try:
            tenant_policy(self.settings(), timezone=DEFAULT_TIMEZONE)
        except BadRequestError as exc:
            raise ValueError(exc.message) from None
        return self

    def settings(self, trust_tier: int = 0) -> TenantGuardSettings:
        """The settings as the guard reads them (``trust_tier`` is the operator's)."""
        return TenantGuardSettings(
            quiet_hours=self.quiet_hours,
            per_contact_day=self.per_contact_day,
            per_contact_month=self.per_contact_month,
            human_confirm_over=self.human_confirm_over,
            trust_tier=trust_tier,
        )


TimeRanges = str | Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=12)]


class ServiceHoursSpec(_Strict):
    """``service_hours:`` — when the tenant's people answer (:mod:`kindbot.dialogue.service_hours`).

    ``days`` maps a day (``mon`` … ``sun``) or a range of days (``mon-fri``) to
    ``"HH:MM-HH:MM"``, a list of such ranges, or ``closed``; days not named are
    closed. ``timezone`` defaults to the tenant's. Told to a customer who asks
    for a person when nobody is online: when someone will be there.
    """

    timezone: str | None = None
    days: Annotated[dict[str, TimeRanges], Field(min_length=1, max_length=7)]

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return None if value is None else TenantSpec._known_timezone(value)

    @field_validator("days")
    @classmethod
    def _valid_days(cls, value: dict[str, TimeRanges]) -> dict[str, TimeRanges]:
        parse_days(value)
        return value

    def hours(self, tenant_timezone: str) -> ServiceHours:
        """The hours as the pipeline reads them (in ``tenant_timezone`` unless one is given)."""
        return ServiceHours(self.timezone or tenant_timezone, parse_days(self.days))


class LlmSpec(_Strict):
    """``llm:`` — optional generative answers from an OpenAI-compatible endpoint.

    The model answers only from retrieved knowledge entries, and only when
    the knowledge base fell below its threshold with a best candidate of at
    least ``min_confidence``; a timeout or a bad reply keeps the normal
    path. ``api_key`` is stored sealed and never shown. Leaving the section
    out of the bundle turns generative answers off.
    """

    base_url: Annotated[str, Field(pattern=r"^https?://[^\s/]+", max_length=500)]
    model: Annotated[str, Field(min_length=1, max_length=200)]
    api_key: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        default=None, repr=False
    )
    timeout_seconds: Annotated[float, Field(gt=0, le=10)] = 3.0
    max_entries: Annotated[int, Field(ge=1, le=8)] = 3
    min_confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 0.15
    temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.0


class Bundle(_Strict):
    """A whole bundle file."""

    tenant: TenantSpec
    channels: list[ChannelSpec] = Field(default_factory=list)
    knowledge: list[KnowledgeSource] = Field(default_factory=list)
    kb: KnowledgeBaseSpec = Field(default_factory=KnowledgeBaseSpec)
    test_contacts: list[TestContactSpec] = Field(default_factory=list)
    guard: GuardSpec | None = None
    handlers: list[Annotated[str, Field(pattern=MODULE, max_length=200)]] = Field(
        default_factory=list
    )
    """Python modules on the server's path, each defining ``bot`` (the handler API)."""
    endpoints: dict[Name, EndpointModel] = Field(default_factory=dict)
    """HTTP endpoints flows may call (see :mod:`kindbot.bundles.flow_schema`)."""
    flows: list[FlowModel] = Field(default_factory=list)
    """Multi-turn flows; their structure is checked by ``flow_schema.flows_problems``."""
    llm: LlmSpec | None = None
    """Generative answers (None: off)."""
    service_hours: ServiceHoursSpec | None = None
    """When people answer (None: not said; a request for a person then names no time)."""
    journeys: list[JourneySpec] = Field(default_factory=list, max_length=50)
    """Follow-ups (:mod:`kindbot.bundles.journeys_spec`); names unique."""

    def synonym_groups(self) -> list[tuple[str, ...]]:
        """Every synonym group of the ``knowledge`` section, in order."""
        return [tuple(g) for s in self.knowledge for g in s.synonyms or ()]

    @field_validator("journeys")
    @classmethod
    def _unique_journeys(cls, value: list[JourneySpec]) -> list[JourneySpec]:
        names = [spec.name for spec in value]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"journey names must be unique: {', '.join(repeated)}")
        return value

    @field_validator("channels")
    @classmethod
    def _unique_ids(cls, value: list[ChannelSpec]) -> list[ChannelSpec]:
        seen: set[str] = set()
        for spec in value:
            if spec.id in seen:
                raise ValueError(f"channel id {spec.id!r} appears twice")
            if spec.id == "console":
                raise ValueError("channel id 'console' is reserved for `kindbot chat`")
            seen.add(spec.id)
        return value

    @field_validator("test_contacts")
    @classmethod
    def _test_contacts_on_known_channels(
        cls, value: list[TestContactSpec], info: ValidationInfo
    ) -> list[TestContactSpec]:
        if "channels" not in info.data:
            return value  # the channels are invalid: that is the error to report
        known = {spec.id for spec in info.data["channels"]} | {"console"}
        seen: set[tuple[str, str]] = set()
        for i, contact in enumerate(value):
            if contact.channel not in known:
                names = ", ".join(sorted(known))
                raise ValueError(
                    f"[{i}].channel {contact.channel!r} is not a channel of this bundle ({names})"
                )
            if (contact.channel, contact.external_id) in seen:
                raise ValueError(f"[{i}] appears twice")
            seen.add((contact.channel, contact.external_id))
        return value
