"""The dashboard's two languages: which one a request gets, and the texts in each.

The choice, first match wins: ``?lang=`` (remembered in a cookie), the
cookie, the user's saved language, the browser's ``Accept-Language``; English
when none names Chinese or English.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Lang(StrEnum):
    """A language of the dashboard."""

    ZH = "zh"
    EN = "en"


LANG_COOKIE = "kb_lang"


def parse_lang(value: str | None) -> Lang | None:
    """``zh``/``en`` (also ``zh-CN``, ``en_US`` …) as a :class:`Lang`; None otherwise."""
    if not value:
        return None
    head = value.strip().lower().replace("_", "-").split("-")[0]
    return Lang(head) if head in Lang._value2member_map_ else None


def from_accept_language(header: str | None) -> Lang | None:
    """The browser's most preferred of zh/en (``q`` weights honoured; ties keep header order)."""
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = parse_lang(tag)
        if lang is None:
            continue
        weight = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                continue
        if weight > 0 and (best is None or (weight, -position) > (best[0], -best[1])):
            best = (weight, position, lang)
    return best[2] if best else None


def choose_lang(
    query: str | None, cookie: str | None, saved: str | None, accept: str | None
) -> Lang:
    """The request's language (see the module docstring)."""
    for choice in (parse_lang(query), parse_lang(cookie), parse_lang(saved)):
        if choice is not None:
            return choice
    return from_accept_language(accept) or Lang.EN


TEXTS: Mapping[str, tuple[str, str]] = {
    # key: (English, Chinese)
    "app": ("kindbot console", "kindbot 控制台"),
    "sign_in": ("Sign in", "登录"),
    "sign_out": ("Sign out", "退出登录"),
    "sign_out_everywhere": ("Sign out on every device", "在所有设备上退出"),
    "email": ("Email", "邮箱"),
    "password": ("Password", "密码"),
    "wrong_credentials": ("Wrong email or password.", "邮箱或密码不正确。"),
    "locked": (
        "Too many failed attempts: this account is locked until {until}.",
        "失败次数过多：此账号已锁定至 {until}。",
    ),
    "throttled": (
        "Too many failed attempts from this address; try again later.",
        "此地址失败次数过多，请稍后再试。",
    ),
    "form_expired": (
        "The form expired; please try again.",
        "表单已过期，请重试。",
    ),
    "your_shops": ("Your shops", "我的店铺"),
    "no_shops": (
        "You are not a member of any shop yet. Ask a shop's admin to add you.",
        "您还不是任何店铺的成员，请联系店铺管理员添加。",
    ),
    "all_shops": ("All shops (platform admin)", "全部店铺（平台管理员）"),
    "role": ("Role", "角色"),
    "role.tenant_admin": ("Shop admin", "店铺管理员"),
    "role.agent": ("Agent", "客服"),
    "role.viewer": ("Viewer", "只读成员"),
    "status": ("Status", "状态"),
    "status.pending": ("Pending review", "待审核"),
    "status.active": ("Active", "正常"),
    "status.suspended": ("Suspended", "已暂停"),
    "standing": ("Standing", "信用状态"),
    "standing.ok": ("Good", "良好"),
    "standing.warning": ("Warning", "警告"),
    "standing.throttled": ("Throttled", "限流"),
    "channels": ("Channels", "渠道"),
    "channel": ("Channel", "渠道"),
    "kind": ("Type", "类型"),
    "callback_url": (
        "Callback URL (paste into the platform's console)",
        "回调地址（填入平台后台）",
    ),
    "chat_page": ("Web chat page", "网页聊天页面"),
    "token": ("Token and keys to paste", "需填写的令牌与密钥"),
    "enabled": ("Enabled", "已启用"),
    "disabled": ("Disabled", "已停用"),
    "members": ("Members", "成员"),
    "name": ("Name", "姓名"),
    "account": ("Account", "账号"),
    "change_password": ("Change password", "修改密码"),
    "current_password": ("Current password", "当前密码"),
    "new_password": ("New password (at least 10 characters)", "新密码（至少 10 个字符）"),
    "password_changed": (
        "Password changed; your other sessions were signed out.",
        "密码已修改，其他设备上的登录已退出。",
    ),
    "signed_out_others": ("Signed out of {count} session(s).", "已退出 {count} 个登录。"),
    "wrong_password": ("The current password is not correct.", "当前密码不正确。"),
    "weak_password": (
        "The new password needs 10 to 256 characters.",
        "新密码需为 10 到 256 个字符。",
    ),
    "language": ("Language", "语言"),
    "not_found": ("Not found.", "页面不存在。"),
    "forbidden": ("Your role may not open this page.", "您的角色无权访问此页面。"),
    "back": ("Back to your shops", "返回我的店铺"),
    "skip": ("Skip to content", "跳到正文"),
    "platform": ("Platform: shops and vetting", "平台：店铺与审核"),
    "industry": ("Industry", "行业"),
    "test_contacts": ("Test contacts", "测试联系人"),
    "content_sample": ("Content sample (knowledge base)", "内容样本（知识库）"),
    "reason": ("Reason", "理由"),
    "action.approve": ("Approve", "批准"),
    "action.suspend": ("Suspend", "暂停"),
    "action.reinstate": ("Reinstate", "恢复"),
    "manage_members": ("Manage members", "管理成员"),
    "invite": ("Invite", "邀请"),
    "invite_someone": ("Invite someone", "邀请成员"),
    "invitations": ("Open invitations", "待接受的邀请"),
    "expires": ("Expires", "过期时间"),
    "withdraw": ("Withdraw", "撤回"),
    "change_role": ("Change role", "修改角色"),
    "remove": ("Remove", "移除"),
    "invite_link": (
        "Invitation link (shown once; send it to them, it works for 7 days):",
        "邀请链接（只显示一次，请发给对方，7 天内有效）：",
    ),
    "join_title": ("Join {shop}", "加入 {shop}"),
    "join_as": (
        "You are invited as {role} with {email}.",
        "您受邀以 {role} 身份加入，账号 {email}。",
    ),
    "join": ("Join", "加入"),
    "join_sign_in_first": (
        "This email has an account: sign in first, then open this link again.",
        "此邮箱已有账号：请先登录，再打开此链接。",
    ),
    "kb": ("Knowledge base", "知识库"),
    "kb_count": ("{count} entries", "共 {count} 条"),
    "saved": ("Done", "已完成"),
    "test_box": ("Test a question", "测试提问"),
    "test_hint": ("Ask as a customer would", "像顾客一样提问"),
    "ask": ("Ask", "提问"),
    "decision": ("The bot would", "机器人会"),
    "decision.answer": ("answer", "直接回答"),
    "decision.clarify": ("ask which one", "请顾客选择"),
    "decision.fallback": ("hand over to a person", "转人工"),
    "threshold": ("threshold", "阈值"),
    "question": ("Question", "问题"),
    "answer": ("Answer", "答案"),
    "score": ("Score", "得分"),
    "no_candidates": ("No candidate.", "没有候选。"),
    "new_entry": ("New entry", "新建条目"),
    "edit_entry": ("Edit entry", "编辑条目"),
    "similar": ("Similar phrasings (one per line)", "相似问法（每行一个）"),
    "tags": ("Tags (comma-separated)", "标签（逗号分隔）"),
    "save": ("Save", "保存"),
    "import_file": ("Import a file (CSV, XLSX, JSON, YAML)", "导入文件（CSV、XLSX、JSON、YAML）"),
    "import": ("Import", "导入"),
    "entries": ("Entries", "条目"),
    "search": ("Search", "搜索"),
    "found": ("{count} found", "找到 {count} 条"),
    "edit": ("Edit", "编辑"),
    "delete": ("Delete", "删除"),
    "pages": ("Pages", "分页"),
    "unanswered": ("Unanswered questions", "未能回答的问题"),
    "unanswered_summary": (
        "{messages} unanswered questions from {customers} customers, grouped by meaning.",
        "{customers} 位顾客的 {messages} 个问题未能回答，已按意思分组。",
    ),
    "asked_by": (
        "{customers} customers asked ({count} messages)",
        "{customers} 位顾客问过（{count} 条消息）",
    ),
    "nearest": ("Nearest entry", "最接近的条目"),
    "make_entry": ("Turn into an entry", "转为新条目"),
    "none_unanswered": ("Nothing unanswered.", "没有未回答的问题。"),
    "inbox": ("Inbox", "客服收件箱"),
    "view.waiting": ("Waiting", "等待中"),
    "view.mine": ("Mine", "我的"),
    "view.all": ("All", "全部"),
    "go_online": ("Go online", "上线"),
    "go_offline": ("Go offline", "下线"),
    "conversation": ("Conversation", "会话"),
    "reply_refused": ("The guard did not send this reply", "守护规则未发送这条回复"),
    "would_pass": ("It would pass when", "满足以下条件即可发送"),
    "retry_at": ("It may be sent at", "可发送时间"),
    "reply": ("Reply to the customer", "回复顾客"),
    "send": ("Send", "发送"),
    "internal_note": ("Internal note (never sent)", "内部备注（不会发给顾客）"),
    "internal_notes": ("Internal notes", "内部备注"),
    "add_note": ("Add note", "添加备注"),
    "pick_conversation": ("Pick a conversation on the left.", "请在左侧选择一个会话。"),
    "nobody_online": (
        "Nobody is online: new hand-offs wait until an agent goes online.",
        "目前没有客服在线：新的转人工请求会一直等待，直到有客服上线。",
    ),
    "inbox_empty": ("Nothing here.", "暂无会话。"),
    "state.waiting": ("waiting", "等待中"),
    "state.human": ("with an agent", "人工处理中"),
    "state.resolved": ("resolved", "已解决"),
    "state.bot": ("with the bot", "机器人"),
    "with_agent": ("with", "客服："),
    "requested": ("asked for a person at", "请求人工于"),
    "rating": ("rating", "评分"),
    "claim": ("Claim", "接入"),
    "transfer": ("Transfer", "转交"),
    "transfer_to": ("Transfer to", "转交给"),
    "resolve": ("Resolve", "结束会话"),
    "overview": ("Overview", "概览"),
    "last_days": ("Last {days} days", "最近 {days} 天"),
    "from": ("From", "从"),
    "to_excl": ("To (not included)", "到（不含）"),
    "show": ("Show", "查看"),
    "vs_previous": (
        "changes against the period of equal length before",
        "变化与之前同样长度的周期相比",
    ),
    "value_equation": ("Users × value per user = revenue", "用户数 × 单用户价值 = 收入"),
    "active_users": ("Active users", "活跃用户"),
    "value_per_user": ("Value per user", "单用户价值"),
    "revenue": ("Revenue", "收入"),
    "new_users": ("New users", "新用户"),
    "orders": ("Orders", "订单"),
    "conversion": ("Conversion ({days} days)", "转化率（{days} 天）"),
    "repurchase": ("Repurchase ({days} days)", "复购率（{days} 天）"),
    "conversation_health": ("Conversation health", "会话健康度"),
    "conversations": ("Conversations", "会话数"),
    "bot_answered": ("Answered by the bot", "机器人解决"),
    "handoff_share": ("Handed to a person", "转人工"),
    "ratings": ("{count} ratings", "{count} 个评分"),
    "opt_out_rate": ("Opt-out rate", "退订率"),
    "retention": ("Weekly retention cohorts", "按周留存"),
    "download_csv": ("Download CSV", "下载 CSV"),
    "settings": ("Channels and settings", "渠道与设置"),
    "channels_hint": (
        "Paste each callback URL and token into the WeChat or WeCom console.",
        "将回调地址和令牌填入微信公众平台或企业微信后台。",
    ),
    "test_message": ("Send a test message", "发送测试消息"),
    "test_message_hint": (
        "To one of the shop's test contacts, through the guard like every message: "
        "it needs the contact's consent to the topic and respects quiet hours and caps.",
        "只能发给本店的测试联系人，并与所有消息一样经过守卫：需要对方同意该主题，"
        "并遵守免打扰时段和频次上限。",
    ),
    "no_test_contacts": (
        "The shop has no test contacts (the bundle's test_contacts, or the API's test-contacts).",
        "本店没有测试联系人（在配置包的 test_contacts 中声明，或通过 API 添加）。",
    ),
    "test_contact": ("Test contact", "测试联系人"),
    "consent_topic": ("Consent topic", "同意主题"),
    "message_text": ("Message", "消息内容"),
    "send_test": ("Send through the guard", "经守卫发送"),
    "test_sent": (
        "The guard allowed it: the message is in the outbox.",
        "守卫已放行：消息已进入发送队列。",
    ),
    "test_deferred": (
        "The guard deferred it: it will be decided again when it may be sent.",
        "守卫已推迟：到可发送时间会重新判定。",
    ),
    "test_refused": ("The guard refused it.", "守卫拒绝发送。"),
    "guard_limits": ("Guard limits", "守卫限制"),
    "guard_limits_hint": (
        "The shop may only make the platform's limits stricter. Empty: the platform's. "
        "Applying the shop's bundle again replaces these with its guard settings.",
        "店铺只能收紧平台的限制；留空即使用平台限制。重新应用配置包会以其中的设置替换这里的值。",
    ),
    "quiet_hours": ("Quiet hours (HH:MM-HH:MM)", "免打扰时段（HH:MM-HH:MM）"),
    "limit.per_contact_day": (
        "Proactive messages per contact per day",
        "每位联系人每天主动消息数",
    ),
    "limit.per_contact_month": (
        "Proactive messages per contact per month",
        "每位联系人每月主动消息数",
    ),
    "limit.human_confirm_over": (
        "Broadcasts to more recipients need a second person's approval",
        "群发人数超过此值需第二人批准",
    ),
    "platform_value": ("Platform: {value}", "平台：{value}"),
    "in_effect": ("in effect: {value}", "当前生效：{value}"),
    "daily_recipients": (
        "Daily proactive recipients (set by the platform operator): {count}",
        "每日主动消息接收人数上限（由平台运营方设定）：{count}",
    ),
    "guard_saved": (
        "Saved: the new limits apply from the next message.",
        "已保存：新限制从下一条消息起生效。",
    ),
    "contacts": ("Contacts", "联系人"),
    "customer_history": ("The customer so far", "客户记录"),
    "tag_list": ("Tags", "标签"),
    "tag": ("Tag", "标签"),
    "last_active": ("Last active", "最近活跃"),
    "add": ("Add", "添加"),
    "yes": ("Yes", "是"),
    "no": ("No", "否"),
    "consents": ("Consents", "同意记录"),
    "next_page": ("Next page", "下一页"),
    "attributes": ("Attributes", "自定义属性"),
    "search_contacts": ("Name or id", "名称或 ID"),
    "attribute_filter": ("Attribute (name:op:value)", "属性（名称:比较:值）"),
    "attribute_help": (
        "Attributes to filter by (ops eq, ne, gt, gte, lt, lte, contains, set, unset)",
        "可筛选的属性（比较：eq、ne、gt、gte、lt、lte、contains、set、unset）",
    ),
    "active_within_days": ("Active within days", "最近几天活跃"),
    "min_orders": ("At least orders", "订单数至少"),
    "min_revenue": ("At least revenue", "收入至少"),
    "sort_by": ("Sort by", "排序"),
    "sort.last_active": ("Last active", "最近活跃"),
    "sort.created": ("Newest", "最新"),
    "sort.orders": ("Most orders", "订单最多"),
    "sort.revenue": ("Most revenue", "收入最高"),
    "sort.name": ("Name", "名称"),
    "no_contacts": ("No contact matches.", "没有匹配的联系人。"),
    "contact_erased": (
        "The contact and everything of it were erased (audited).",
        "该联系人及其全部数据已删除（已记录审计）。",
    ),
    "first_known": ("Known since", "首次记录"),
    "source.message": ("their own message", "本人发消息"),
    "source.event": ("a business event", "业务事件"),
    "opted_out": ("Opted out", "已退订"),
    "following": ("Following", "关注中"),
    "timeline": ("Timeline", "时间线"),
    "timeline.message_in": ("Message from the customer", "客户消息"),
    "timeline.message_out": ("Message to the customer", "发给客户的消息"),
    "timeline.consent_granted": ("Consent given", "同意"),
    "timeline.consent_withdrawn": ("Consent withdrawn", "撤回同意"),
    "timeline.opt_out": ("Opted out by message", "发消息退订"),
    "timeline.handoff_requested": ("Asked for a person", "请求人工"),
    "timeline.handoff_claimed": ("An agent took over", "客服接入"),
    "timeline.handoff_resolved": ("Resolved by an agent", "客服已解决"),
    "timeline.event": ("Business event", "业务事件"),
    "timeline.proactive_send": ("Proactive message", "主动消息"),
    "timeline.note": ("Internal note", "内部备注"),
    "no_history": ("Nothing yet.", "暂无记录。"),
    "no_tags": ("No tags.", "没有标签。"),
    "add_tag": ("New tag", "新标签"),
    "no_attributes": (
        "The shop declares no attributes (the bundle's tenant.attributes).",
        "本店未声明自定义属性（配置包的 tenant.attributes）。",
    ),
    "consent_wording": ("What they agreed to", "同意的内容"),
    "consent.active": ("active", "有效"),
    "consent.withdrawn": ("withdrawn", "已撤回"),
    "no_consents": ("No consent recorded.", "没有同意记录。"),
    "data_rights": ("Export and erasure", "导出与删除"),
    "export_contact": (
        "Download everything stored about this contact (JSON)",
        "下载该联系人的全部数据（JSON）",
    ),
    "erase_confirm": (
        "To erase, type the contact's id ({id})",
        "如需删除，请输入联系人 ID（{id}）",
    ),
    "erase_contact": ("Erase the contact", "删除该联系人"),
    "erase_unconfirmed": (
        "Not erased: type the contact's id exactly to confirm.",
        "未删除：请准确输入联系人 ID 以确认。",
    ),
    "invalid_tag": ("A tag is one word of 1 to 64 characters.", "标签为 1–64 个字符且不含空格。"),
    "campaigns": ("Campaigns", "营销活动"),
    "campaigns_hint": (
        "A campaign goes only to contacts who consented to its topic, through the guard, "
        "and keeps a holdout that is never messaged, so its report shows what it added.",
        "活动只发给同意该主题的联系人，并经过守卫；保留一个从不发送的对照组，报告据此显示活动带来的增量。",
    ),
    "audience": ("Audience", "受众"),
    "recipients": ("Recipients", "接收人"),
    "created": ("Created", "创建时间"),
    "campaign.draft": ("draft", "草稿"),
    "campaign.awaiting_approval": ("awaiting approval", "待批准"),
    "campaign.scheduled": ("scheduled", "已排期"),
    "campaign.sending": ("sending", "发送中"),
    "campaign.finished": ("finished", "已完成"),
    "campaign.cancelled": ("cancelled", "已取消"),
    "held_out": ("held out", "对照"),
    "no_campaigns": ("No campaign yet.", "还没有活动。"),
    "new_campaign": ("New campaign", "新建活动"),
    "segment": ("Segment", "分群"),
    "variant_a": ("Message (variant A)", "消息（版本 A）"),
    "variant_b": ("Variant B (optional)", "版本 B（可选）"),
    "holdout_percent": ("Holdout (%)", "对照组比例（%）"),
    "attribution_days": ("Attribution window (days)", "归因窗口（天）"),
    "starts_at": ("Starts at", "开始时间"),
    "per_minute": ("At most per minute", "每分钟最多"),
    "plan_campaign": ("Plan the campaign", "规划活动"),
    "done.approve": ("Approved: the campaign starts at its time.", "已批准：活动将按时开始。"),
    "done.cancel": ("Cancelled: nothing more is sent.", "已取消：不再发送。"),
    "approved_by": ("Approved by", "批准人"),
    "variant": ("Variant", "版本"),
    "approve_campaign": ("Approve (as a second person)", "批准（第二人）"),
    "cancel_campaign": ("Cancel the campaign", "取消活动"),
    "awaits_second_person": (
        "Above the shop's limit, a campaign waits for a second shop admin to approve it; "
        "its creator cannot.",
        "超过店铺上限的活动需另一位店铺管理员批准，创建者本人不能批准。",
    ),
    "delivery": ("Delivery", "发送进度"),
    "recipient.planned": ("waiting", "待发送"),
    "recipient.sent": ("sent", "已发送"),
    "recipient.deferred": ("deferred", "已推迟"),
    "recipient.denied": ("refused", "被拒绝"),
    "recipient.skipped": ("skipped", "已跳过"),
    "recipient.holdout": ("held out", "对照组"),
    "guard_plan": ("The guard's plan", "守卫预判"),
    "guard_plan_hint": (
        "For the recipients still waiting: who may receive it now and, per rule, why not. "
        "It is decided again at send time.",
        "针对尚未发送的接收人：现在谁可以收到，以及每条规则拒绝的原因。发送时会重新判定。",
    ),
    "why": ("Why", "原因"),
    "nothing_waiting": ("Nobody is waiting to be sent.", "没有待发送的接收人。"),
    "campaign_report": ("Report against the holdout", "与对照组对比的报告"),
    "window_open": (
        "attribution windows still open: the figures may change",
        "归因窗口尚未结束，数据可能变化",
    ),
    "campaign_flagged": (
        "Flagged: this campaign raised opt-outs or complaints above 2 % and above the holdout.",
        "已标记：该活动的退订或投诉率超过 2% 且高于对照组。",
    ),
    "arm.treatment": ("Messaged", "发送组"),
    "arm.holdout": ("Holdout", "对照组"),
    "report.size": ("Recipients", "人数"),
    "report.delivered": ("Delivered", "已送达"),
    "report.conversions": ("Ordered in the window", "窗口内下单"),
    "report.conversion_rate": ("Conversion", "转化率"),
    "report.revenue": ("Revenue", "收入"),
    "report.revenue_per_recipient": ("Revenue per recipient", "人均收入"),
    "report.replies": ("Replied within 48 h", "48 小时内回复"),
    "report.opt_outs": ("Opted out within 48 h", "48 小时内退订"),
    "report.complaints": ("Complained within 48 h", "48 小时内投诉"),
    "uplift": ("Incremental conversion", "增量转化"),
    "points": ("points", "个百分点"),
    "ci95": ("95 % interval", "95% 区间"),
    "incremental_revenue": ("incremental revenue per recipient", "人均增量收入"),
    "verdict": ("Decision", "判定"),
    "analytics": ("Analytics", "数据分析"),
    "complaint_rate": ("Complaint rate", "投诉率"),
    "fallback_share": ("Bot could not answer", "机器人未能回答"),
    "first_response": ("Agents' first response (median)", "客服首次响应（中位数）"),
    "seconds": ("{count} s", "{count} 秒"),
    "all_channels": ("All channels", "全部渠道"),
    "value_over_time": (
        "Revenue = users × value per user, over time",
        "收入 = 用户数 × 单用户价值（按时间）",
    ),
    "by_day": ("Day by day", "按天"),
    "by_week": ("Week by week (weeks start on Monday)", "按周（周一开始）"),
    "bucket_start": ("From", "起"),
    "funnels": ("Conversion and repurchase", "转化与复购"),
    "funnel.new": ("New contacts", "新联系人"),
    "funnel.converted": ("Ordered within {days} days", "{days} 天内下单"),
    "funnel.buyers": ("First-time buyers", "首次购买者"),
    "funnel.repeat": ("Ordered again within {days} days", "{days} 天内再次购买"),
    "step": ("Step", "环节"),
    "contacts_count": ("Contacts", "联系人数"),
    "share_of_step": ("Of the step before", "占上一环节"),
    "per_channel": ("Per channel", "按渠道"),
    "per_channel_hint": (
        "Open a channel for its own conversion, repurchase and retention.",
        "点击渠道查看其转化、复购与留存。",
    ),
    "chart_alt": ("The chart repeats the table below.", "图表与下方表格数据相同。"),
    "cohort_week": ("First seen in week", "首次出现的周"),
    "size": ("Size", "人数"),
    "week_k": ("Week {k}", "第 {k} 周"),
    "no_cohorts": ("No cohort starts in this period.", "此周期内没有新的用户群。"),
    "compliance": ("Compliance", "合规"),
    "violation_score": ("Violation score", "违规积分"),
    "violation_score_value": ("{score} in the last {days} days", "最近 {days} 天 {score} 分"),
    "recent_violations": ("Recent violations", "最近的违规"),
    "time": ("Time", "时间"),
    "rule": ("Rule", "规则"),
    "severity": ("Severity", "严重程度"),
    "weight": ("Weight", "积分"),
    "subject": ("Subject", "对象"),
    "forgiven": ("cleared on reinstatement", "恢复时已清零"),
    "no_violations": ("No violations recorded.", "没有违规记录。"),
    "audit_log": ("Audit log", "审计日志"),
    "verify_chain": ("Verify the chain", "校验哈希链"),
    "chain_intact": (
        "{count} entries verified, chain intact.",
        "已校验 {count} 条记录，哈希链完整。",
    ),
    "chain_broken": (
        "The chain is broken at entry {seq}: {problem}.",
        "哈希链在第 {seq} 条记录处断开：{problem}。",
    ),
    "any": ("Any", "全部"),
    "audit_decision": ("Decision", "决定"),
    "search_subject": ("Text in the subject", "对象包含的文字"),
    "filter": ("Filter", "筛选"),
    "no_audit_entries": ("No entries match.", "没有符合条件的记录。"),
    "newest": ("← Newest", "← 最新"),
    "older": ("Older →", "更早 →"),
    "moderation_terms": ("Moderation terms of the shop", "本店的审核词"),
    "term": ("Term", "词语"),
    "term_action": ("Action", "处理方式"),
    "term_action.allow": ("allow", "放行"),
    "term_action.deny": ("block", "拦截"),
    "term_action.flag": ("flag", "标记"),
    "category": ("Category", "类别"),
    "added": ("Added", "添加于"),
    "no_terms": (
        "The shop has no terms of its own; the platform's lexicon applies.",
        "本店没有自己的审核词，使用平台词库。",
    ),
    "flows": ("Flows", "多轮流程"),
    "flow_count": ("{count} in all", "共 {count} 个"),
    "edge.next": ("answered", "回答后"),
    "edge.call_ok": ("call succeeded", "调用成功"),
    "edge.call_error": ("call failed", "调用失败"),
    "edge.answer": ("answered, flow ends", "回答后结束"),
    "flow_end": ("End", "结束"),
    "trigger": ("Trigger words", "触发词"),
    "regex": ("or the pattern", "或正则"),
    "flow_start": ("Starts at", "起始状态"),
    "slots": ("Slots", "槽位"),
    "cancel_words": ("Cancel words", "取消词"),
    "flow_timeout": ("Gives up after", "超时"),
    "minutes": ("{count} minutes without an answer", "{count} 分钟无回复"),
    "diagram_of": ("States and transitions of {name}", "{name} 的状态与转移"),
    "transitions": ("Transitions", "状态转移"),
    "no_flows": ("The shop has no flows.", "本店没有多轮流程。"),
    "flow_runs": ("Conversations in a flow now", "正在流程中的会话"),
    "flow_runs_hint": (
        "A conversation's place in a flow is kept while it is in one; finished runs are not kept.",
        "会话在流程中时才会保存其位置；已结束的流程不保留记录。",
    ),
    "flow": ("Flow", "流程"),
    "flow_state": ("State", "状态"),
    "collected": ("Collected", "已收集"),
    "last_moved": ("Last moved", "最近更新"),
    "retries": ("{count} invalid answers", "{count} 次无效回答"),
    "no_runs": ("No conversation is in a flow.", "目前没有会话在流程中。"),
    "invalid_invitation": (
        "This invitation link is not valid (used, expired or withdrawn).",
        "此邀请链接无效（已使用、已过期或已撤回）。",
    ),
}


def text(lang: Lang, key: str, **values: object) -> str:
    """The text ``key`` in ``lang``, with ``{placeholders}`` filled; KeyError for a missing key."""
    english, chinese = TEXTS[key]
    template = chinese if lang is Lang.ZH else english
    return template.format(**values) if values else template
