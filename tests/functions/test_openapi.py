"""The OpenAPI document covers every registered route and is a valid OpenAPI 3.1 document."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.conftest import FunctionCaller, registered_functions

pytestmark = pytest.mark.usefixtures("services")


async def _document(call: FunctionCaller) -> dict[str, Any]:
    reply = await call("openapi", "GET", "openapi.json", user=None)
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    return dict(reply.json())


async def test_the_document_is_valid_openapi_3_1(call: FunctionCaller) -> None:
    document = await _document(call)
    assert document["openapi"] == "3.1.0"
    validate(document)


async def test_every_http_function_but_the_fallback_is_documented(call: FunctionCaller) -> None:
    document = await _document(call)
    documented = {
        (method.upper(), path) for path, operations in document["paths"].items() for method in operations
    }
    registered = set()
    for function in registered_functions().values():
        trigger = function.get_trigger().get_dict_repr()
        if trigger["type"] != "httpTrigger" or function.get_function_name() == "fallback":
            continue
        for method in trigger["methods"]:
            registered.add((str(method.value), "/" + trigger["route"]))
    assert documented == registered


async def test_schemas_are_the_models_the_handlers_validate_with(call: FunctionCaller) -> None:
    document = await _document(call)
    create = document["paths"]["/meetings"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"title", "startsAt", "endsAt"}
    assert schema["properties"]["title"]["maxLength"] == 200
    assert schema["additionalProperties"] is False
    assert {"201", "400", "401", "413", "415"} <= set(create["responses"])
    listing = document["paths"]["/meetings"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"from", "to", "limit", "continuationToken"}
    patch = document["paths"]["/meetings/{meetingId}"]["patch"]
    assert "412" in patch["responses"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
    assert document["paths"]["/health"]["get"]["security"] == []


async def test_the_document_states_what_the_api_requires(call: FunctionCaller) -> None:
    document = await _document(call)
    paths = document["paths"]
    participant = paths["/meetings/{meetingId}/participants/{userId}"]
    for method in ("put", "patch", "delete"):
        [user] = [p for p in participant[method]["parameters"] if p["name"] == "userId"]
        assert user["schema"]["pattern"] == r"^[A-Za-z0-9.@_+\-]{1,128}$"
        assert "400" in participant[method]["responses"]  # a userId not matching it
    update = document["components"]["schemas"]["UpdateMeeting"]["properties"]
    for field in ("title", "startsAt", "endsAt", "participants"):  # omitted, never null
        assert "null" not in str(update[field]), field
        assert "default" not in update[field], field
    assert "null" in str(update["description"])  # the one that may be cleared
    [to] = [p for p in paths["/meetings"]["get"]["parameters"] if p["name"] == "to"]
    assert to["allowEmptyValue"] is True  # the host drops `?to=`: omitted
    assert {"const": ""} in to["schema"]["anyOf"]


async def test_links_lead_from_what_is_created_to_what_works_on_it(call: FunctionCaller) -> None:
    document = await _document(call)
    paths = document["paths"]
    meeting_links = paths["/meetings"]["post"]["responses"]["201"]["links"]
    assert meeting_links["get_meeting"] == {
        "operationId": "get_meeting",
        "parameters": {"meetingId": "$response.body#/id"},
    }
    assert meeting_links["put_participant"]["parameters"] == {
        "meetingId": "$response.body#/id",
        "userId": "$response.body#/organizerId",
    }
    meeting_ops = {
        op["operationId"]
        for path, ops in paths.items()
        if path.startswith("/meetings/{meetingId}") and "{recordingId}" not in path
        for op in ops.values()
    }
    assert set(meeting_links) == meeting_ops  # those on a recording: from the recording's creation
    recording_links = paths["/meetings/{meetingId}/recordings"]["post"]["responses"]["201"]["links"]
    assert recording_links["get_recording_media"]["parameters"] == {
        "meetingId": "$request.path.meetingId",
        "recordingId": "$response.body#/id",
    }
    recording_ops = {
        op["operationId"]
        for path, ops in paths.items()
        if path.startswith("/meetings/{meetingId}/recordings/{recordingId}")
        and "{speakerId}" not in path  # a speaker's id comes from the transcript, not the creation
        for op in ops.values()
    }
    assert set(recording_links) == recording_ops
