"""A local stand-in for Azure AI Search's data plane, over HTTPS, speaking the REST API azure-search-documents
calls: an index's definition (`GET /indexes('<name>')`, `POST /indexes`), documents (`POST
/indexes('<name>')/docs/search.index`, the upload, merge and delete actions) and queries (`POST
/indexes('<name>')/docs/search.post.search` with `search`, `searchMode`, `searchFields`, `filter`, `select`,
`highlight` and its tags, `skip`, `top`).

It is strict where the real service is and where the adapter could go wrong: every request needs a bearer
token the test's credential issued (no `api-key`: local auth is disabled), an `api-version`; an index must
exist before documents go in; a filter is parsed as OData (string literals in single quotes, a quote inside
doubled, `and`, `eq`, and `any` over a collection field) and a filter on a field the index does not mark
filterable is refused, as the service refuses it; fields not `retrievable` are never returned.

Matching is simple and deterministic: words are `\\w+`, lower case; `searchMode=all` needs every word of the
query, `any` one of them; the score is how often the query's words occur, per word of the passage.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from tests.https_site import HttpsSite

_WORD = re.compile(r"\w+")
_STRING = r"'(?:[^']|'')*'"
_CLAUSE = re.compile(
    rf"\s*(?:(?P<field>[A-Za-z]\w*) eq (?P<value>{_STRING})"
    rf"|(?P<coll>[A-Za-z]\w*)/any\((?P<var>[a-z]\w*): (?P=var) eq (?P<item>{_STRING})\))\s*"
)


class FilterError(ValueError):
    pass


def parse_filter(text: str) -> list[tuple[str, str, bool]]:
    """`a eq 'x' and c/any(m: m eq 'y')` as [(field, value, is_collection)]; FilterError otherwise."""
    clauses: list[tuple[str, str, bool]] = []
    for part in re.split(r"\s+and\s+", text.strip()):
        match = _CLAUSE.fullmatch(part)
        if match is None:
            raise FilterError(f"Invalid expression: {part!r}")
        if match["field"]:
            clauses.append((match["field"], match["value"][1:-1].replace("''", "'"), False))
        else:
            clauses.append((match["coll"], match["item"][1:-1].replace("''", "'"), True))
    return clauses


class SearchService:
    def __init__(self) -> None:
        self.site = HttpsSite("search")
        self.valid: set[str] = set()
        self.indexes: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, dict[str, dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []
        self.fail_next: int | None = None

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self.site.port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/indexes('{name}')", self.get_index)
        app.router.add_post("/indexes", self.create_index)
        app.router.add_post("/indexes('{name}')/docs/search.index", self.index_documents)
        app.router.add_post("/indexes('{name}')/docs/search.post.search", self.search)
        await self.site.start(app)

    async def stop(self) -> None:
        await self.site.stop()

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if "api-key" in request.headers:
            return _error(403, "Forbidden", "Key-based authentication is disabled for this service.")
        header = request.headers.get("Authorization", "")
        if not (header.startswith("Bearer ") and header[7:] in self.valid):
            return web.Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        if not request.query.get("api-version"):
            return _error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
        body = await request.read()
        self.requests.append(
            {"method": request.method, "path": request.path, "body": json.loads(body) if body else None}
        )
        if self.fail_next is not None:
            status, self.fail_next = self.fail_next, None
            return _error(status, "ServiceUnavailable", "The service is busy.")
        response: web.StreamResponse = await handler(request)
        return response

    # --- indexes ---------------------------------------------------------------------------------------

    async def get_index(self, request: web.Request) -> web.Response:
        index = self.indexes.get(request.match_info["name"])
        if index is None:
            return _error(404, "ResourceNotFound", f"No index with the name '{request.match_info['name']}'.")
        return web.json_response(index)

    async def create_index(self, request: web.Request) -> web.Response:
        index = await request.json()
        name = index.get("name")
        if not name or not isinstance(index.get("fields"), list):
            return _error(400, "InvalidRequestParameter", "An index needs a name and fields.")
        if name in self.indexes:
            return _error(409, "ResourceNameAlreadyInUse", f"Index '{name}' already exists.")
        if sum(1 for f in index["fields"] if f.get("key")) != 1:
            return _error(400, "InvalidRequestParameter", "An index needs exactly one key field.")
        self.indexes[name] = index
        self.documents[name] = {}
        return web.json_response(index, status=201)

    def _fields(self, name: str) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in self.indexes[name]["fields"]}

    # --- documents -------------------------------------------------------------------------------------

    async def index_documents(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.indexes:
            return _error(404, "ResourceNotFound", f"No index with the name '{name}'.")
        actions = (await request.json()).get("value") or []
        if len(actions) > 1000:
            return _error(413, "RequestEntityTooLarge", "At most 1000 actions in a batch.")
        fields = self._fields(name)
        key = next(n for n, f in fields.items() if f.get("key"))
        docs = self.documents[name]
        results = []
        for action in actions:
            kind = action.pop("@search.action", "upload")
            id_ = action.get(key)
            if not isinstance(id_, str) or not re.fullmatch(r"[A-Za-z0-9_\-=]{1,1024}", id_):
                return _error(400, "InvalidDocumentKey", f"Invalid document key: {id_!r}")
            unknown = set(action) - set(fields)
            if unknown:
                return _error(400, "InvalidRequestParameter", f"Unknown fields: {sorted(unknown)}")
            status = 200
            if kind == "upload":
                docs[id_] = action
            elif kind == "mergeOrUpload":
                docs[id_] = {**docs.get(id_, {}), **action}
            elif kind == "merge":
                if id_ in docs:
                    docs[id_].update(action)
                else:
                    status = 404
            elif kind == "delete":
                docs.pop(id_, None)
            else:
                return _error(400, "InvalidRequestParameter", f"Unknown action {kind}")
            results.append(
                {
                    "key": id_,
                    "status": status == 200,
                    "errorMessage": None if status == 200 else "Document not found.",
                    "statusCode": status,
                }
            )
        return web.json_response({"value": results}, status=200 if all(r["status"] for r in results) else 207)

    # --- queries ---------------------------------------------------------------------------------------

    async def search(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.indexes:
            return _error(404, "ResourceNotFound", f"No index with the name '{name}'.")
        body = await request.json()
        fields = self._fields(name)
        try:
            clauses = parse_filter(body["filter"]) if body.get("filter") else []
        except FilterError as exc:
            return _error(400, "InvalidRequestParameter", f"Invalid expression: {exc}")
        for field, _, is_collection in clauses:
            spec = fields.get(field)
            if spec is None or not spec.get("filterable"):
                return _error(400, "InvalidRequestParameter", f"Field '{field}' is not filterable.")
            if is_collection != spec["type"].startswith("Collection("):
                return _error(400, "InvalidRequestParameter", f"'{field}' used as the wrong type.")
        search_fields = [s for s in (body.get("searchFields") or "").split(",") if s] or [
            n for n, f in fields.items() if f.get("searchable") and f["type"] == "Edm.String"
        ]
        if any(not fields.get(s, {}).get("searchable") for s in search_fields):
            return _error(400, "InvalidRequestParameter", "Only searchable fields can be searched.")
        text = body.get("search") or "*"
        terms = [] if text.strip() == "*" else [w.lower() for w in _WORD.findall(text)]
        every = body.get("searchMode", "any") == "all"
        scored = []
        for id_, doc in self.documents[name].items():
            if not all(_holds(doc, clause) for clause in clauses):
                continue
            words = [w.lower() for s in search_fields for w in _WORD.findall(str(doc.get(s) or ""))]
            hits = [t for t in terms if t in words]
            if terms and (not hits or (every and len(hits) < len(terms))):
                continue
            score = sum(words.count(t) for t in terms) / max(1, len(words)) if terms else 1.0
            scored.append((-score, id_, doc))
        scored.sort(key=lambda item: (item[0], item[1]))
        skip, top = int(body.get("skip") or 0), int(body.get("top") or 50)
        select = [s for s in (body.get("select") or "").split(",") if s] or list(fields)
        visible = [s for s in select if fields.get(s, {}).get("retrievable", True)]
        highlight = [s for s in (body.get("highlight") or "").split(",") if s]
        pre, post = body.get("highlightPreTag", "<em>"), body.get("highlightPostTag", "</em>")
        value = []
        for negative, _, doc in scored[skip : skip + top]:
            result: dict[str, Any] = {"@search.score": -negative, **{s: doc.get(s) for s in visible}}
            marked = {h: [_mark(str(doc.get(h) or ""), terms, pre, post)] for h in highlight if terms}
            if marked:
                result["@search.highlights"] = marked
            value.append(result)
        return web.json_response({"value": value})


def _holds(doc: dict[str, Any], clause: tuple[str, str, bool]) -> bool:
    field, value, is_collection = clause
    if is_collection:
        return value in (doc.get(field) or [])
    return doc.get(field) == value


def _mark(text: str, terms: list[str], pre: str, post: str) -> str:
    return _WORD.sub(lambda m: f"{pre}{m[0]}{post}" if m[0].lower() in terms else m[0], text)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
