"""Every ``/api/v1`` request's path values, query values and JSON body, checked before a route runs.

A router-level dependency of the whole API (:func:`checked_inputs`), so a new
route is covered without doing anything. What a database cannot store — a
NUL character (PostgreSQL text refuses it) or a lone UTF-16 surrogate
(``"\\ud800"`` in JSON; not encodable as UTF-8) — is 400 ``invalid_text``
(:func:`kindbot.core.edge.check_text`) before any query runs; a path value longer
than :data:`PATH_VALUE_LIMIT` names nothing and is 400 ``identifier_too_long``;
a JSON body nested deeper than :data:`kindbot.core.edge.MAX_JSON_DEPTH` is 400
``json_too_deep``. A body that is not JSON at all is left to the route's own
validation (422 with the field), as before.
"""

from __future__ import annotations

from fastapi import Request

from kindbot.core.edge import check_identifier, check_text, load_json
from kindbot.core.errors import BadRequestError

PATH_VALUE_LIMIT = 512
"""Longest path value (slug, channel, external id, tag, term …) accepted."""


async def checked_inputs(request: Request) -> None:
    """Refuse (400 with a code) any path value, query value or JSON string no database can store."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            check_identifier(value, field=name, limit=PATH_VALUE_LIMIT)
    for name, value in request.query_params.multi_items():
        check_text(name, field="query")
        check_text(value, field=name)
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        if body:
            try:
                load_json(body)
            except BadRequestError as exc:
                if exc.code != "invalid_json":  # malformed JSON: the route answers 422
                    raise
