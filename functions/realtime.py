"""The live channel: where the web client connects to receive its meetings' events."""

from shared.http import ApiRequest, ApiResponse, blueprint, endpoint, schemas

bp = blueprint()


@endpoint(
    bp,
    name="realtime_negotiate",
    method="GET",
    route="realtime/negotiate",
    summary="A Web PubSub client access URL in the groups of the caller's meetings (receive-only)",
    tag="realtime",
    ok=(200, "NegotiateOut", "Where to connect, and until when"),
    errors=(503,),
)
async def realtime_negotiate(req: ApiRequest[None, None]) -> ApiResponse:
    access = await req.services.live.negotiate(req.caller.user_id)
    body = schemas.NegotiateOut(url=access.url, expires_on=access.expires_on)
    # The URL carries a bearer token: no cache may keep it.
    return ApiResponse.json(body, headers={"Cache-Control": "no-store"})
