"""Control endpoints (``/sim/...``) so another process can drive the simulator.

All take and give JSON. Success: HTTP 200 ``{"errcode": 0, "errmsg": "ok", ...}``.
Refusals: 400 ``{"errcode": 40000}`` for a body that is not a JSON object,
400 ``40010`` for a missing or invalid field, 404 ``40400`` for an unknown
app/corp/kf account (and unknown routes), 405 ``40500`` for a wrong method.

=======  ==========================  =================================================
method   path                        body / query → extra answer fields
=======  ==========================  =================================================
POST     /sim/oa/apps                {appid, secret}
POST     /sim/oa/user_message        {appid, openid}
POST     /sim/oa/user_event          {appid, openid}
POST     /sim/oa/unfollow            {appid, openid}
GET      /sim/oa/sent                ?appid= → messages: [{touser, msgtype, payload, at}]
GET      /sim/oa/token_calls         ?appid= → calls
POST     /sim/wecom/corps            {corpid, corpsecret}
POST     /sim/wecom/kf_accounts      {corpid, open_kfid}
POST     /sim/wecom/customer_says    {corpid, open_kfid, external_userid, text} → msgid
GET      /sim/wecom/sent             ?corpid= → messages: [{open_kfid, touser, msgid,
                                     msgtype, payload, at}]
POST     /sim/wecom/members          {corpid, userid}
GET      /sim/wecom/app_sent         ?corpid= → messages: [{agentid, touser, msgtype,
                                     payload, at}]
POST     /sim/wecom/customer_added   {corpid, userid, external_userid} → welcome_code
GET      /sim/wecom/welcomes         ?corpid= → messages: [{welcome_code, userid,
                                     external_userid, content, at}]
POST     /sim/faults                 {path_prefix, fault: "timeout" | "http_500" |
                                     "errcode_45009" | "errcode_40001", times?} → pending
DELETE   /sim/faults                 → pending (0)
POST     /sim/faults/release         → released (stalled requests let go)
=======  ==========================  =================================================
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kindbot.testing.wechat_api.errors import UnknownAccountError
from kindbot.testing.wechat_api.faults import Fault

if TYPE_CHECKING:
    from kindbot.testing.wechat_api.simulator import WeChatSimulator

JsonObject = dict[str, object]
Op = Callable[[Request, "WeChatSimulator"], Awaitable[JsonObject]]
BAD_JSON = 40000
BAD_FIELD = 40010
NOT_FOUND = 40400
NOT_ALLOWED = 40500


def control_error(status: int, errcode: int, errmsg: str) -> JSONResponse:
    """A refusal of a control (or unknown) request."""
    return JSONResponse({"errcode": errcode, "errmsg": errmsg}, status_code=status)


class _BadJsonError(Exception):
    pass


async def _object(request: Request) -> dict[str, object]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise _BadJsonError from None
    if not isinstance(body, dict):
        raise _BadJsonError
    return body


def _text(body: dict[str, object], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key!r} must be a non-empty string")
    return value


def _query(request: Request, key: str) -> str:
    value = request.query_params.get(key)
    if not value:
        raise ValueError(f"query parameter {key!r} is required")
    return value


async def _oa_apps(request: Request, sim: WeChatSimulator) -> JsonObject:
    body = await _object(request)
    sim.add_oa_app(_text(body, "appid"), _text(body, "secret"))
    return {}


async def _oa_user(request: Request) -> tuple[str, str]:
    body = await _object(request)
    return _text(body, "appid"), _text(body, "openid")


async def _user_message(request: Request, sim: WeChatSimulator) -> JsonObject:
    sim.user_message(*await _oa_user(request))
    return {}


async def _user_event(request: Request, sim: WeChatSimulator) -> JsonObject:
    sim.user_event(*await _oa_user(request))
    return {}


async def _unfollow(request: Request, sim: WeChatSimulator) -> JsonObject:
    sim.unfollow(*await _oa_user(request))
    return {}


async def _oa_sent(request: Request, sim: WeChatSimulator) -> JsonObject:
    sent = sim.sent(_query(request, "appid"))
    return {
        "messages": [
            {"touser": m.touser, "msgtype": m.msgtype, "payload": json.loads(m.payload_json),
             "at": m.at}
            for m in sent
        ]
    }  # fmt: skip


async def _oa_token_calls(request: Request, sim: WeChatSimulator) -> JsonObject:
    return {"calls": sim.token_calls(_query(request, "appid"))}


async def _wecom_corps(request: Request, sim: WeChatSimulator) -> JsonObject:
    body = await _object(request)
    sim.add_wecom_corp(_text(body, "corpid"), _text(body, "corpsecret"))
    return {}


async def _kf_accounts(request: Request, sim: WeChatSimulator) -> JsonObject:
    body = await _object(request)
    sim.add_kf_account(_text(body, "corpid"), _text(body, "open_kfid"))
    return {}


async def _customer_says(request: Request, sim: WeChatSimulator) -> JsonObject:
    body = await _object(request)
    fields = ("corpid", "open_kfid", "external_userid", "text")
    return {"msgid": sim.customer_says(*(_text(body, key) for key in fields))}


async def _wecom_sent(request: Request, sim: WeChatSimulator) -> JsonObject:
    sent = sim.kf_sent(_query(request, "corpid"))
    return {
        "messages": [
            {"open_kfid": m.open_kfid, "touser": m.touser, "msgid": m.msgid,
             "msgtype": m.msgtype, "payload": json.loads(m.payload_json), "at": m.at}
            for m in sent
        ]
    }  # fmt: skip


async def _members(request: Request, sim: WeChatSimulator) -> JsonObject:
    body = await _object(request)
    sim.add_wecom_member(_text(body, "corpid"), _text(body, "userid"))
    return {}


async def _app_sent(request: Request, sim: WeChatSimulator) -> JsonObject:
    sent = sim.app_sent(_query(request, "corpid"))
    return {
        "messages": [
            {"agentid": m.agentid, "touser": m.touser, "msgtype": m.msgtype,
             "payload": json.loads(m.payload_json), "at": m.at}
            for m in sent
        ]
    }  # fmt: skip


async def _customer_added(request: Request, sim: WeChatSimulator) -> JsonObject:
    body = await _object(request)
    fields = ("corpid", "userid", "external_userid")
    return {"welcome_code": sim.customer_added(*(_text(body, key) for key in fields))}


async def _welcomes(request: Request, sim: WeChatSimulator) -> JsonObject:
    sent = sim.welcomes_sent(_query(request, "corpid"))
    return {
        "messages": [
            {"welcome_code": m.welcome_code, "userid": m.userid,
             "external_userid": m.external_userid, "content": m.content, "at": m.at}
            for m in sent
        ]
    }  # fmt: skip


async def _inject(request: Request, sim: WeChatSimulator) -> JsonObject:
    body = await _object(request)
    times = body.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool):
        raise ValueError("'times' must be an integer")
    sim.inject(_text(body, "path_prefix"), Fault(_text(body, "fault")), times)
    return {"pending": sim.state.faults.pending()}


async def _clear_faults(request: Request, sim: WeChatSimulator) -> JsonObject:
    sim.clear_faults()
    return {"pending": 0}


async def _release(request: Request, sim: WeChatSimulator) -> JsonObject:
    return {"released": sim.release_timeouts()}


def _endpoint(sim: WeChatSimulator, op: Op) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            extra = await op(request, sim)
        except _BadJsonError:
            return control_error(400, BAD_JSON, "the body must be a JSON object")
        except UnknownAccountError as exc:
            return control_error(404, NOT_FOUND, str(exc))
        except ValueError as exc:
            return control_error(400, BAD_FIELD, str(exc))
        return JSONResponse({"errcode": 0, "errmsg": "ok", **extra})

    return endpoint


def control_routes(sim: WeChatSimulator) -> list[Route]:
    """The ``/sim/...`` routes bound to ``sim``."""
    table: list[tuple[str, str, Op]] = [
        ("/sim/oa/apps", "POST", _oa_apps),
        ("/sim/oa/user_message", "POST", _user_message),
        ("/sim/oa/user_event", "POST", _user_event),
        ("/sim/oa/unfollow", "POST", _unfollow),
        ("/sim/oa/sent", "GET", _oa_sent),
        ("/sim/oa/token_calls", "GET", _oa_token_calls),
        ("/sim/wecom/corps", "POST", _wecom_corps),
        ("/sim/wecom/kf_accounts", "POST", _kf_accounts),
        ("/sim/wecom/customer_says", "POST", _customer_says),
        ("/sim/wecom/sent", "GET", _wecom_sent),
        ("/sim/wecom/members", "POST", _members),
        ("/sim/wecom/app_sent", "GET", _app_sent),
        ("/sim/wecom/customer_added", "POST", _customer_added),
        ("/sim/wecom/welcomes", "GET", _welcomes),
        ("/sim/faults", "POST", _inject),
        ("/sim/faults", "DELETE", _clear_faults),
        ("/sim/faults/release", "POST", _release),
    ]
    return [Route(path, _endpoint(sim, op), methods=[method]) for path, method, op in table]
