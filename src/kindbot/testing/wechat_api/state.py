"""The parts of one simulator, as the HTTP layer sees them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kindbot.testing.wechat_api.faults import FaultPlan, Stalls
from kindbot.testing.wechat_api.oa import OfficialAccounts
from kindbot.testing.wechat_api.tokens import TokenBook
from kindbot.testing.wechat_api.wecom import WeComCorps
from kindbot.testing.wechat_api.wecom_app import WeComApps


@dataclass(frozen=True, slots=True)
class SimulatorState:
    """Everything one ``WeChatSimulator`` owns; ``clock`` returns unix seconds."""

    clock: Callable[[], float]
    tokens: TokenBook
    oa: OfficialAccounts
    wecom: WeComCorps
    wecom_apps: WeComApps
    faults: FaultPlan
    stalls: Stalls
