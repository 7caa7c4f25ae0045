"""OpenAPI 3.1, generated from the registered operations and the pydantic models they validate with.

Nothing here is written by hand per route, so the document cannot drift from what the handlers accept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.domain.ids import USER_ID_PATTERN
from shared.http import _TITLES, JSON, PROBLEM_JSON, Operation, is_json_media_type
from shared.schemas import Problem

_REF = "#/components/schemas/{model}"
TEXT: dict[str, Any] = {"type": "string"}
_PATH_PARAM = re.compile(r"\{([^}:?*]+)")
# Path parameters with rules of their own (anything else is any string: an unknown id is a 404).
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {"userId": {"type": "string", "pattern": USER_ID_PATTERN}}
# Where a created resource's answer gives a path parameter other than its own id (links).
_LINKED_FIELDS = {"userId": "organizerId"}


def build_openapi(operations: Iterable[Operation], version: str, route_prefix: str = "api") -> dict[str, Any]:
    operations = list(operations)
    refs, schemas = _schemas(operations)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        spec = _operation(op, refs)
        if links := _links(op, operations):
            spec["responses"][str(op.ok_status)]["links"] = links
        paths.setdefault("/" + op.route.strip("/"), {})[op.method.lower()] = spec
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "video-signaling",
            "version": version,
            "description": "Video meetings on Azure: meetings, ACS rooms and tokens, recordings, transcripts "
            "and summaries. Errors are RFC 9457 problem+json.",
        },
        "servers": [{"url": f"/{route_prefix}" if route_prefix else "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "AUTH_MODE=entra: an Entra ID access token; "
                    "AUTH_MODE=dev: `dev:<userId>`. With AUTH_MODE=easyauth, App Service "
                    "authentication signs the caller in instead.",
                }
            },
        },
    }


Key = tuple[type[BaseModel], Literal["validation", "serialization"]]


def _schemas(operations: list[Operation]) -> tuple[dict[Key, dict[str, Any]], dict[str, Any]]:
    wanted: dict[Key, None] = {(Problem, "serialization"): None}
    for op in operations:
        if op.body is not None:
            wanted[(op.body, "validation")] = None
        if op.ok_model is not None:
            wanted[(op.ok_model, "serialization")] = None
    keys: list[tuple[type[BaseModel], JsonSchemaMode]] = list(wanted)
    refs, top = models_json_schema(keys, by_alias=True, ref_template=_REF)
    return {(model, mode): schema for (model, mode), schema in refs.items()}, dict(top.get("$defs", {}))  # type: ignore[misc]


def _operation(op: Operation, refs: dict[Key, dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": _parameters(op),
        "responses": _responses(op, refs),
    }
    spec["security"] = [{"bearer": []}] if op.authenticated else []
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": refs[(op.body, "validation")]}},
        }
    return spec


def _links(op: Operation, operations: list[Operation]) -> dict[str, Any]:
    """What a create answer leads to: every operation on the resource it made (`{route}/{id}...`), its id
    from the answer, the rest of the path as the request had it. Clients (and a stateful fuzzer) follow
    them instead of guessing ids."""
    if op.method != "POST" or op.ok_status != 201 or op.ok_model is None:
        return {}
    fields = op.ok_model.model_json_schema(by_alias=True, mode="serialization").get("properties", {})
    if "id" not in fields:
        return {}
    known = _PATH_PARAM.findall(op.route)
    links: dict[str, Any] = {}
    for target in operations:
        tail = target.route.strip("/").removeprefix(op.route.strip("/") + "/")
        if tail == target.route.strip("/") or not tail.startswith("{"):
            continue
        new = _PATH_PARAM.findall(tail)[0]
        parameters: dict[str, str] = {}
        for name in _PATH_PARAM.findall(target.route):
            if name == new:
                parameters[name] = "$response.body#/id"
            elif name in known:
                parameters[name] = f"$request.path.{name}"
            elif (field := _LINKED_FIELDS.get(name)) in fields:
                parameters[name] = f"$response.body#/{field}"
        if len(parameters) == len(_PATH_PARAM.findall(target.route)):
            links[target.name] = {"operationId": target.name, "parameters": parameters}
    return links


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": dict(_PATH_SCHEMAS.get(name, TEXT))}
        for name in _PATH_PARAM.findall(op.route)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(by_alias=True, mode="validation")
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            param: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": prop,
            }
            if name not in required:
                # The Functions host drops a query parameter with an empty value (`?to=`) before the
                # app sees it: an empty value is the parameter omitted, and the document says so.
                param["allowEmptyValue"] = True
                param["schema"] = {"anyOf": [prop, {"const": ""}]}
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    params.extend(
        {"name": header, "in": "header", "required": False, "schema": {"type": "string"}}
        for header in op.request_headers
    )
    return params


def _responses(op: Operation, refs: dict[Key, dict[str, Any]]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": op.ok_description}
    if op.ok_model is not None:
        # The model describes the JSON rendering; the others (WebVTT, Markdown…) are text.
        ok["content"] = {
            media: {"schema": refs[(op.ok_model, "serialization")] if is_json_media_type(media) else TEXT}
            for media in op.ok_media_types
        }
    elif op.ok_media_types != (JSON,):
        ok["content"] = {media: {"schema": TEXT} for media in op.ok_media_types}
    if op.response_headers:
        ok["headers"] = {name: {"schema": {"type": "string"}} for name in op.response_headers}
    responses: dict[str, Any] = {str(op.ok_status): ok}
    problem = {PROBLEM_JSON: {"schema": refs[(Problem, "serialization")]}}
    for status in op.errors:
        responses[str(status)] = {"description": _TITLES.get(status, "Error"), "content": problem}
    return responses
