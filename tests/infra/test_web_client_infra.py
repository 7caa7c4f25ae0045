"""The web client in Azure: a Static Web App (Free) that calls the Function App cross-origin, with the same
origins allowed by the Function App's CORS, its ALLOWED_ORIGINS and Blob storage (uploads, playback)."""

from __future__ import annotations

import re

from shared.cors import ALLOWED_METHODS
from shared.http import OPERATIONS
from tests.conftest import registered_functions
from tests.infra.bicep_text import INFRA, ROOT, Expr, Resource, load


def module_block(name: str) -> str:
    """The text of `module <name> '...' = { ... }` in main.bicep."""
    text = load(INFRA / "main.bicep").text
    start = re.search(rf"^module {name} '[^']+' = \{{$", text, re.M)
    assert start, f"main.bicep has no module {name}"
    end = text.index("\n}\n", start.end())
    return text[start.end() : end]


def only(resources: list[Resource]) -> Resource:
    assert len(resources) == 1
    return resources[0]


def test_the_static_web_app_is_free_and_tagged_for_azd() -> None:
    module = load(INFRA / "modules" / "staticwebapp.bicep")
    web = only(module.resources_of("Microsoft.Web/staticSites"))
    assert web.get("sku.name") == "Free"
    assert web.get("sku.tier") == "Free"
    assert web.get("tags") == Expr("union(tags, {\n    'azd-service-name': serviceName\n  })")
    main = load(INFRA / "main.bicep")
    assert main.variables["webServiceName"] == "web"
    assert "serviceName: webServiceName" in module_block("web")
    assert set(main.params["webLocation"].allowed or []) == set(module.params["location"].allowed or [])


def test_azure_yaml_deploys_web_dist_with_the_api_address() -> None:
    azure_yaml = (ROOT / "azure.yaml").read_text(encoding="utf-8")
    web = re.search(r"\n  web:\n((?:    .*\n|\s*\n)+)", azure_yaml)
    assert web, "azure.yaml has no `web` service"
    block = web.group(1)
    for line in ("project: ./web", "language: js", "host: staticwebapp", "dist: dist"):
        assert f"    {line}\n" in block, line
    assert "run: ../infra/hooks/web-prepackage.sh" in block
    hook = (ROOT / "infra" / "hooks" / "web-prepackage.sh").read_text(encoding="utf-8")
    assert "VITE_API_BASE_URL=" in hook
    assert "$API_BASE_URL" in hook
    main = load(INFRA / "main.bicep").text
    assert "output API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/api'" in main
    assert "output WEB_URL string = web.outputs.origin" in main


def test_one_origin_list_reaches_the_function_app_its_setting_and_storage() -> None:
    main = load(INFRA / "main.bicep")
    origins = str(main.variables["corsOrigins"])
    assert origins.startswith("union([web.outputs.origin]"), "the web client's own origin comes first"
    assert "allowedOrigins: corsOrigins" in module_block("functionApp")
    assert "corsOrigins: corsOrigins" in module_block("storage")
    module = load(INFRA / "modules" / "staticwebapp.bicep")
    assert "output origin string = 'https://${web.properties.defaultHostname}'" in module.text


def test_the_function_app_allows_exactly_those_origins_without_credentials() -> None:
    app = load(INFRA / "modules" / "functionapp.bicep")
    site = only(app.resources_of("Microsoft.Web/sites"))
    assert site.get("properties.siteConfig.cors.allowedOrigins") == Expr("allowedOrigins")
    assert site.get("properties.siteConfig.cors.supportCredentials") is False
    settings = {entry["name"]: entry["value"] for entry in app.variables["appSettings"]}
    assert settings["ALLOWED_ORIGINS"] == Expr("join(allowedOrigins, ',')")
    assert (settings["AUTH_CLIENT_ID"], settings["AUTH_API_SCOPE"]) == (
        Expr("authClientId"),
        Expr("authApiScope"),
    )


def test_anonymous_routes_are_excluded_from_easy_auth() -> None:
    app = load(INFRA / "modules" / "functionapp.bicep")
    auth = only(app.resources_of("Microsoft.Web/sites/config"))
    excluded = set(auth.get("properties.globalValidation.excludedPaths"))
    anonymous = {f"/api/{op.route}" for op in OPERATIONS if not op.authenticated}
    assert anonymous >= {"/api/health", "/api/openapi.json", "/api/client-config"}
    assert anonymous <= excluded


def test_blob_storage_lets_the_web_client_upload_and_play_back() -> None:
    storage = load(INFRA / "modules" / "storage.bicep")
    service = only(storage.resources_of("Microsoft.Storage/storageAccounts/blobServices"))
    rules = service.get("properties.cors.corsRules")
    assert isinstance(rules, Expr)
    assert rules.startswith("empty(corsOrigins) ? [] : [")
    assert "allowedOrigins: corsOrigins" in rules
    methods = set(re.findall(r"'(PUT|GET|HEAD|OPTIONS|POST|DELETE|MERGE|PATCH)'", rules))
    assert methods == {"PUT", "GET", "HEAD", "OPTIONS"}, "upload (PUT) and playback (GET, HEAD) only"
    allowed_headers = rules[rules.index("allowedHeaders") : rules.index("exposedHeaders")]
    # Every header an upload URL asks the browser to send (the Azure adapter's are the same), and Range.
    upload_headers = {"x-ms-blob-type", "content-type"}
    assert upload_headers == {h.lower() for h in _upload_headers()}
    for header in (*upload_headers, "range"):
        assert f"'{header}'" in allowed_headers, header
    assert "'etag'" in rules[rules.index("exposedHeaders") :]


def _upload_headers() -> set[str]:
    source = (ROOT / "shared" / "adapters" / "azure_blobs.py").read_text(encoding="utf-8")
    found = re.search(r'headers=\{"x-ms-blob-type": "BlockBlob", "Content-Type": content_type\}', source)
    assert found, "the Azure adapter's upload headers changed: update the storage CORS rule and this test"
    return {"x-ms-blob-type", "Content-Type"}


def test_devhosts_cors_allows_every_method_the_api_has() -> None:
    registered_functions()  # every operation registered
    assert {op.method for op in OPERATIONS} <= set(ALLOWED_METHODS)
