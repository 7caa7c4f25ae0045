"""The catch-all route: every request no other function takes gets a problem+json 404 or 405.

The Functions host routes with ASP.NET Core precedence, so `{*path}` only receives what no specific
route matched, and a route whose method does not match falls through to it. `Allow` is computed from
the registered operations, never from a second route table.
"""

from urllib.parse import urlsplit

import azure.functions as func

from shared.http import OPERATIONS, blueprint, problem, route_matches

bp = blueprint()


@bp.function_name(name="fallback")
@bp.route(route="{*path}", auth_level=func.AuthLevel.ANONYMOUS)
async def fallback(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    path = req.route_params.get("path", "") or ""
    allowed = sorted({op.method for op in OPERATIONS if route_matches(op.route, path)})
    instance = urlsplit(req.url).path
    if allowed:
        return problem(
            405,
            f"{req.method} is not allowed here; use {', '.join(allowed)}",
            instance=instance,
            invocation_id=context.invocation_id,
            headers={"Allow": ", ".join(allowed)},
        ).to_http()
    return problem(
        404, f"no route matches /{path}", instance=instance, invocation_id=context.invocation_id
    ).to_http()
