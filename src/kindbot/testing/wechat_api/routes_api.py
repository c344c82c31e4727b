"""The simulated API endpoints (``/cgi-bin/...``) of both API families.

Every endpoint first takes an injected fault, if one is scheduled for its path
(see ``faults``), then answers like WeChat: HTTP 200 and a JSON object; errors
are ``{"errcode", "errmsg"}`` with a random request id in ``errmsg``. A body
that is not a JSON object is 47001 on the OA API and 40058 on WeCom.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kindbot.testing.wechat_api import errors
from kindbot.testing.wechat_api.faults import Fault
from kindbot.testing.wechat_api.state import SimulatorState
from kindbot.testing.wechat_api.tokens import Family
from kindbot.testing.wechat_api.wecom import MAX_SYNC_LIMIT, KfInbound

JsonObject = dict[str, object]
Handler = Callable[[Request, SimulatorState], Awaitable[JsonObject]]
_OK: JsonObject = {"errcode": errors.OK, "errmsg": "ok"}


def error_body(family: Family, errcode: int, errmsg: str) -> JsonObject:
    """An error answer; ``errmsg`` gets a request id the way each API adds one."""
    if family is Family.OA:
        rid = "-".join(secrets.token_hex(4) for _ in range(3))
        return {"errcode": errcode, "errmsg": f"{errmsg} rid: {rid}"}
    return {"errcode": errcode, "errmsg": f"{errmsg}, hint: [{secrets.token_hex(8)}]"}


async def _body(request: Request, family: Family) -> dict[str, object]:
    code = errors.DATA_FORMAT if family is Family.OA else errors.INVALID_PARAMETER
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise errors.WeChatApiError(code) from None
    if not isinstance(body, dict):
        raise errors.WeChatApiError(code)
    return body


def _opt_str(body: dict[str, object], key: str, code: int) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise errors.WeChatApiError(code, f"invalid {key}")


async def _token(request: Request, state: SimulatorState) -> JsonObject:
    query = request.query_params
    grant = state.oa.get_token(
        query.get("grant_type"), query.get("appid"), query.get("secret"), state.clock()
    )
    return {"access_token": grant.access_token, "expires_in": grant.expires_in}


async def _stable_token(request: Request, state: SimulatorState) -> JsonObject:
    body = await _body(request, Family.OA)
    force = body.get("force_refresh", False)
    if not isinstance(force, bool):
        raise errors.WeChatApiError(errors.DATA_FORMAT, "invalid force_refresh")
    grant = state.oa.get_stable_token(
        _opt_str(body, "grant_type", errors.DATA_FORMAT),
        _opt_str(body, "appid", errors.DATA_FORMAT),
        _opt_str(body, "secret", errors.DATA_FORMAT),
        force_refresh=force,
        now=state.clock(),
    )
    return {"access_token": grant.access_token, "expires_in": grant.expires_in}


async def _custom_send(request: Request, state: SimulatorState) -> JsonObject:
    now = state.clock()
    token = state.tokens.check(request.query_params.get("access_token"), Family.OA, now)
    state.oa.send(token.owner, await _body(request, Family.OA), now)
    return dict(_OK)


async def _gettoken(request: Request, state: SimulatorState) -> JsonObject:
    query = request.query_params
    grant = state.wecom.gettoken(query.get("corpid"), query.get("corpsecret"), state.clock())
    return {**_OK, "access_token": grant.access_token, "expires_in": grant.expires_in}


def _kf_item(message: KfInbound) -> JsonObject:
    return {
        "msgid": message.msgid,
        "open_kfid": message.open_kfid,
        "external_userid": message.external_userid,
        "send_time": message.send_time,
        "origin": 3,
        "msgtype": "text",
        "text": {"content": message.content},
    }


async def _kf_sync(request: Request, state: SimulatorState) -> JsonObject:
    now = state.clock()
    token = state.tokens.check(request.query_params.get("access_token"), Family.WECOM, now)
    body = await _body(request, Family.WECOM)
    limit = body.get("limit", MAX_SYNC_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise errors.WeChatApiError(errors.INVALID_PARAMETER, "invalid limit")
    _opt_str(body, "token", errors.INVALID_PARAMETER)
    page = state.wecom.sync(
        token.owner,
        cursor=_opt_str(body, "cursor", errors.INVALID_PARAMETER),
        limit=limit,
        open_kfid=_opt_str(body, "open_kfid", errors.INVALID_PARAMETER),
    )
    return {
        **_OK,
        "next_cursor": page.next_cursor,
        "has_more": int(page.has_more),
        "msg_list": [_kf_item(message) for message in page.messages],
    }


async def _kf_send(request: Request, state: SimulatorState) -> JsonObject:
    now = state.clock()
    token = state.tokens.check(request.query_params.get("access_token"), Family.WECOM, now)
    msgid = state.wecom.send(token.owner, await _body(request, Family.WECOM), now)
    return {**_OK, "msgid": msgid}


async def _app_send(request: Request, state: SimulatorState) -> JsonObject:
    now = state.clock()
    token = state.tokens.check(request.query_params.get("access_token"), Family.WECOM, now)
    answer = state.wecom_apps.send(token.owner, await _body(request, Family.WECOM), now)
    return {**_OK, "invaliduser": answer.invaliduser, "msgid": answer.msgid}


async def _send_welcome(request: Request, state: SimulatorState) -> JsonObject:
    now = state.clock()
    token = state.tokens.check(request.query_params.get("access_token"), Family.WECOM, now)
    state.wecom_apps.send_welcome(token.owner, await _body(request, Family.WECOM), now)
    return dict(_OK)


def _endpoint(
    state: SimulatorState, family: Family, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        fault = state.faults.take(request.url.path)
        if fault is Fault.TIMEOUT and not await state.stalls.stall():
            return PlainTextResponse("simulator shutting down", status_code=503)
        if fault is Fault.HTTP_500:
            return PlainTextResponse("Internal Server Error", status_code=500)
        if fault in (Fault.ERRCODE_45009, Fault.ERRCODE_40001):
            quota = fault is Fault.ERRCODE_45009
            code = errors.API_DAILY_QUOTA if quota else errors.INVALID_CREDENTIAL
            return JSONResponse(error_body(family, code, errors.MESSAGES[code]))
        try:
            return JSONResponse(await handler(request, state))
        except errors.WeChatApiError as exc:
            return JSONResponse(error_body(family, exc.errcode, exc.errmsg))

    return endpoint


def api_routes(state: SimulatorState) -> list[Route]:
    """The ``/cgi-bin/...`` routes bound to ``state``."""
    table: list[tuple[str, str, Family, Handler]] = [
        ("/cgi-bin/token", "GET", Family.OA, _token),
        ("/cgi-bin/stable_token", "POST", Family.OA, _stable_token),
        ("/cgi-bin/message/custom/send", "POST", Family.OA, _custom_send),
        ("/cgi-bin/gettoken", "GET", Family.WECOM, _gettoken),
        ("/cgi-bin/kf/sync_msg", "POST", Family.WECOM, _kf_sync),
        ("/cgi-bin/kf/send_msg", "POST", Family.WECOM, _kf_send),
        ("/cgi-bin/message/send", "POST", Family.WECOM, _app_send),
        ("/cgi-bin/externalcontact/send_welcome_msg", "POST", Family.WECOM, _send_welcome),
    ]
    return [
        Route(path, _endpoint(state, family, handler), methods=[method])
        for path, method, family, handler in table
    ]
