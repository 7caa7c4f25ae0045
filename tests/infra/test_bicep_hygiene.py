"""What checkov does not check in infra/, or cannot see (conditional resources, child resources, modules).

Keyless and encrypted in transit everywhere: no public blobs, no local auth on the services that have
it, HTTPS only, FTP off, TLS 1.2 at least wherever a resource has a minimum. And the layout the app
expects: the queues its triggers read, the Cosmos DB containers its store checks, role assignments
that say which role they grant, Event Grid subscriptions that dead-letter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from shared.adapters import cosmos_store
from shared.config import Settings
from shared.domain import recording_paths
from tests.conftest import registered_functions
from tests.infra.bicep_text import INFRA, ROOT, BicepFile, Expr, Resource, bicep_files, load, load_all

# Built-in role definition ids the Bicep may grant, by name (Azure's built-in roles reference).
ROLES = {
    "7f951dda-4ed3-4680-a7ca-43fe172d538d": "AcrPull",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
    "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
    "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd": "Cognitive Services OpenAI User",
    "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "00000000-0000-0000-0000-000000000002": "Cosmos DB Built-in Data Contributor",
    "12cf5a90-567b-43ae-8102-96cf46c7d9b4": "Web PubSub Service Owner",
    "d5a91429-5739-47e2-a06b-3470a27159e7": "EventGrid Data Sender",
    "8ebe5a00-799e-43f5-93ac-243d3dce84a7": "Search Index Data Contributor",
    "7ca78c08-252a-4471-8644-bb5ff32d4ba0": "Search Service Contributor",
}
# Broad roles nobody here may hold at a scope wider than one resource.
# (AcrPull left this list with issue 20: the captions app pulls its image with it, on its one registry.)
FORBIDDEN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Each resource type with a minimum TLS setting, where it sits, and the values that mean 1.2 or later.
TLS_MINIMUMS = {
    "Microsoft.Storage/storageAccounts": [("properties.minimumTlsVersion", {"TLS1_2", "TLS1_3"})],
    "Microsoft.DocumentDB/databaseAccounts": [("properties.minimalTlsVersion", {"Tls12", "Tls13"})],
    "Microsoft.Web/sites": [
        ("properties.siteConfig.minTlsVersion", {"1.2", "1.3"}),
        ("properties.siteConfig.scmMinTlsVersion", {"1.2", "1.3"}),
    ],
    "Microsoft.EventGrid/topics": [("properties.minimumTlsVersionAllowed", {"1.2", "1.3"})],
}
TLS_KEYS = re.compile(
    r"^(minimumTlsVersion|minimalTlsVersion|minTlsVersion|scmMinTlsVersion|minimumTlsVersionAllowed)$"
)
GOOD_TLS = {"TLS1_2", "TLS1_3", "Tls12", "Tls13", "1.2", "1.3"}


@pytest.fixture(scope="module")
def files() -> list[BicepFile]:
    return load_all()


def declared(files: list[BicepFile], type_: str) -> list[Resource]:
    """Resources of a type that this Bicep creates (not `existing` references)."""
    return [r for f in files for r in f.resources_of(type_) if not r.existing]


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}" if path else key, value
            yield from walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from walk(item, f"{path}[{index}]")


def test_every_bicep_file_is_read(files: list[BicepFile]) -> None:
    assert {f.path for f in files} == set(bicep_files())
    assert sum(len(f.resources) for f in files) > 40
    main = load(INFRA / "main.bicep")
    assert "targetScope = 'subscription'" in main.text
    assert [r.type for r in main.resources] == ["Microsoft.Resources/resourceGroups"], (
        "main.bicep makes one resource group and puts everything else in it through modules"
    )


def test_storage_is_keyless_private_and_https_only(files: list[BicepFile]) -> None:
    accounts = declared(files, "Microsoft.Storage/storageAccounts")
    assert accounts
    for account in accounts:
        assert account.get("properties.allowBlobPublicAccess") is False, account.where
        assert account.get("properties.allowSharedKeyAccess") is False, account.where
        assert account.get("properties.supportsHttpsTrafficOnly") is True, account.where
        assert account.get("properties.defaultToOAuthAuthentication") is True, account.where
        assert account.get("properties.allowCrossTenantReplication") is False, account.where
    for container in declared(files, "Microsoft.Storage/storageAccounts/blobServices/containers"):
        assert container.get("properties.publicAccess") == "None", container.where


@pytest.mark.parametrize(
    ("type_", "path"),
    [
        ("Microsoft.DocumentDB/databaseAccounts", "properties.disableLocalAuth"),
        ("Microsoft.DocumentDB/databaseAccounts", "properties.disableKeyBasedMetadataWriteAccess"),
        ("Microsoft.CognitiveServices/accounts", "properties.disableLocalAuth"),
        ("Microsoft.Insights/components", "properties.DisableLocalAuth"),
        ("Microsoft.OperationalInsights/workspaces", "properties.features.disableLocalAuth"),
        ("Microsoft.SignalRService/webPubSub", "properties.disableLocalAuth"),
        ("Microsoft.EventGrid/topics", "properties.disableLocalAuth"),
        ("Microsoft.Search/searchServices", "properties.disableLocalAuth"),
    ],
)
def test_local_auth_is_off(files: list[BicepFile], type_: str, path: str) -> None:
    resources = declared(files, type_)
    assert resources, f"no {type_} in infra/"
    for resource in resources:
        assert resource.get(path) is True, f"{resource.where}: {path} must be true"


def test_no_setting_anywhere_turns_local_auth_or_public_blobs_back_on(files: list[BicepFile]) -> None:
    for f in files:
        for resource in f.resources:
            for path, value in walk(resource.body):
                key = path.rsplit(".", 1)[-1]
                if key.lower() == "disablelocalauth":
                    assert value is True, f"{resource.where}: {path} = {value!r}"
                if key in ("allowSharedKeyAccess", "allowBlobPublicAccess"):
                    assert value is False, f"{resource.where}: {path} = {value!r}"
                if key in ("httpsOnly", "supportsHttpsTrafficOnly", "requireHttps"):
                    assert value is True, f"{resource.where}: {path} = {value!r}"


def test_keys_are_never_read(files: list[BicepFile]) -> None:
    for f in files:
        for pattern in (r"\.list\w*Keys?\(", r"listConnectionStrings", r"\blistKeys\(", r"AccountKey="):
            assert not re.search(pattern, f.text), f"{f.path.name} reads keys ({pattern})"


def test_cognitive_services_have_the_subdomain_entra_needs(files: list[BicepFile]) -> None:
    for account in declared(files, "Microsoft.CognitiveServices/accounts"):
        assert account.get("properties.customSubDomainName") is not None, account.where


def test_function_app_is_https_only_without_ftp_or_publishing_passwords(files: list[BicepFile]) -> None:
    sites = declared(files, "Microsoft.Web/sites")
    assert sites
    policies = declared(files, "Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    for site in sites:
        assert site.get("properties.httpsOnly") is True, site.where
        assert site.get("properties.siteConfig.ftpsState") == "Disabled", site.where
        assert site.get("properties.siteConfig.remoteDebuggingEnabled") in (None, False), site.where
        off = {p.get("name") for p in policies if p.get("parent") == Expr(site.symbol)}
        assert off == {"ftp", "scm"}, f"{site.where}: basic-auth publishing must be off for ftp and scm"
        for policy in policies:
            assert policy.get("properties.allow") is False, policy.where
    for auth in declared(files, "Microsoft.Web/sites/config"):
        if auth.get("name") == "authsettingsV2":
            assert auth.get("properties.httpSettings.requireHttps") is True, auth.where


@pytest.mark.parametrize("type_", sorted(TLS_MINIMUMS))
def test_minimum_tls_is_1_2_on_every_resource_that_has_one(files: list[BicepFile], type_: str) -> None:
    resources = declared(files, type_)
    assert resources, f"no {type_} in infra/"
    for resource in resources:
        for path, good in TLS_MINIMUMS[type_]:
            assert resource.get(path) in good, f"{resource.where}: {path} = {resource.get(path)!r}"


def test_no_tls_minimum_anywhere_below_1_2(files: list[BicepFile]) -> None:
    for f in files:
        for resource in f.resources:
            for path, value in walk(resource.body):
                if TLS_KEYS.match(path.rsplit(".", 1)[-1]):
                    assert value in GOOD_TLS, f"{resource.where}: {path} = {value!r}"
                    assert resource.type in TLS_MINIMUMS, (
                        f"{resource.where} has a TLS minimum ({path}): add its type to TLS_MINIMUMS"
                    )


def test_key_vault_is_rbac_only_and_recoverable(files: list[BicepFile]) -> None:
    for vault in declared(files, "Microsoft.KeyVault/vaults"):
        assert vault.get("properties.enableRbacAuthorization") is True, vault.where
        assert vault.get("properties.enableSoftDelete") is True, vault.where
        assert vault.get("properties.enablePurgeProtection") is True, vault.where
    secrets = declared(files, "Microsoft.KeyVault/vaults/secrets")
    assert [s.file.relative_to(INFRA).as_posix() for s in secrets] == ["secrets/signing-key.bicep"], (
        "a secret in the templates azd provisions would be rewritten (rotated) by every provision; "
        "infra/hooks/postprovision.sh writes signing-key once"
    )
    for secret in secrets:
        assert secret.get("properties.contentType"), secret.where
        assert secret.get("name") == "signing-key", secret.where
    hook = (INFRA / "hooks" / "postprovision.sh").read_text(encoding="utf-8")
    assert "secrets/signing-key.bicep" in hook
    assert hook.index("az resource show") < hook.index("az deployment group create"), (
        "the hook must look for the secret before writing it"
    )
    for f in files:
        assert "secrets/" not in "".join(re.findall(r"^module .*$", f.text, re.M)), (
            f"{f.path.name} deploys the signing key with everything else"
        )


def role_id(resource: Resource) -> str:
    text = str(resource.get("properties.roleDefinitionId", ""))
    ids = GUID.findall(text)
    if not ids:
        # A variable of the same file holds the id.
        variables = load(resource.file).variables
        ids = [
            g
            for word in re.findall(r"\w+", text)
            if word in variables
            for g in GUID.findall(str(variables[word]))
        ]
    assert len(ids) == 1, f"{resource.where}: cannot tell which role {text!r} is"
    return str(ids[0])


def role_assignments(files: list[BicepFile]) -> list[Resource]:
    return declared(files, "Microsoft.Authorization/roleAssignments") + declared(
        files, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"
    )


def test_every_role_assignment_names_its_role_in_a_comment(files: list[BicepFile]) -> None:
    assignments = role_assignments(files)
    assert len(assignments) >= 10
    for assignment in assignments:
        role = role_id(assignment)
        assert role in ROLES, f"{assignment.where}: unknown role {role}; add it to ROLES if it is right"
        assert role not in FORBIDDEN_ROLES, f"{assignment.where}: {FORBIDDEN_ROLES[role]}"
        comment = " ".join(assignment.comments_above)
        assert f"Role: {ROLES[role]}" in comment, (
            f"{assignment.where} grants {ROLES[role]}; the comment above it must say `Role: {ROLES[role]}`"
        )
        # Least privilege: always on one resource, never on the resource group or subscription.
        scope = assignment.get("scope", assignment.get("properties.scope"))
        assert scope is not None, assignment.where
        assert "resourceGroup()" not in str(scope), assignment.where


def test_app_data_roles_cover_what_the_app_uses(files: list[BicepFile]) -> None:
    granted = {ROLES[role_id(r)] for r in role_assignments(files) if "appPrincipalId" in str(r.body)}
    assert granted == {
        "Storage Blob Data Owner",
        "Storage Queue Data Contributor",
        "Monitoring Metrics Publisher",
        "Cognitive Services OpenAI User",
        "Key Vault Secrets User",
        "Contributor",
        "Cosmos DB Built-in Data Contributor",
        "Web PubSub Service Owner",
        "EventGrid Data Sender",
        "Search Index Data Contributor",
        "Search Service Contributor",
    }


def test_queues_are_the_ones_the_triggers_read(files: list[BicepFile]) -> None:
    trigger_queues = {
        binding.get_dict_repr()["queueName"]
        for function in registered_functions().values()
        for binding in function.get_bindings()
        if binding.get_dict_repr().get("type") == "queueTrigger"
    }
    storage = load(INFRA / "modules" / "storage.bicep")
    assert set(storage.variables["queues"]) == trigger_queues
    assert {q + "-poison" for q in trigger_queues if not q.endswith("-poison")} <= trigger_queues
    containers = set(storage.variables["appContainers"])
    assert containers == {recording_paths.RECORDINGS, recording_paths.ARTIFACTS}


def test_cosmos_layout_is_the_stores(files: list[BicepFile]) -> None:
    main = load(INFRA / "main.bicep")
    assert main.variables["databaseName"] == Settings.model_fields["cosmos_database"].default
    containers = {
        c.get("name"): c
        for c in declared(files, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers")
    }
    assert set(containers) == {cosmos_store.MEETINGS, cosmos_store.USERS}
    meetings, users = containers[cosmos_store.MEETINGS], containers[cosmos_store.USERS]
    assert meetings.get("properties.resource.partitionKey.paths") == [cosmos_store.MEETINGS_PARTITION_KEY]
    assert users.get("properties.resource.partitionKey.paths") == [cosmos_store.USERS_PARTITION_KEY]
    assert users.get("properties.resource.indexingPolicy") == cosmos_store.USERS_INDEXING_POLICY
    assert meetings.get("properties.resource.indexingPolicy") == cosmos_store.MEETINGS_INDEXING_POLICY
    account = declared(files, "Microsoft.DocumentDB/databaseAccounts")[0]
    assert {"name": "EnableServerless"} in account.get("properties.capabilities")


def event_grid_functions() -> set[str]:
    return {
        name
        for name, function in registered_functions().items()
        for binding in function.get_bindings()
        if binding.get_dict_repr().get("type") == "eventGridTrigger"
    }


def test_event_subscriptions_target_event_grid_functions_and_dead_letter(files: list[BicepFile]) -> None:
    subscriptions = declared(files, "Microsoft.EventGrid/systemTopics/eventSubscriptions")
    targets = {}
    for subscription in subscriptions:
        destination = subscription.get("properties.destination")
        assert destination["endpointType"] == "AzureFunction", subscription.where
        function = re.search(r"/functions/(\w+)'$", str(destination["properties"]["resourceId"]))
        assert function, subscription.where
        targets[function.group(1)] = subscription
        dead_letter = subscription.get("properties.deadLetterWithResourceIdentity")
        assert dead_letter is not None, f"{subscription.where}: undeliverable events must be dead-lettered"
        assert dead_letter["identity"]["type"] == "SystemAssigned", subscription.where
        assert dead_letter["deadLetterDestination"]["endpointType"] == "StorageBlob", subscription.where
        assert subscription.get("properties.retryPolicy.maxDeliveryAttempts") == 30, subscription.where
    assert set(targets) == {"recording_uploaded", "call_recording_ready"}
    assert "recording_uploaded" in event_grid_functions()
    assert targets["call_recording_ready"].condition is not None, (
        "call_recording_ready's subscription must wait until the function is deployed (the hook tells)"
    )
    uploads = targets["recording_uploaded"]
    assert uploads.get("properties.filter.includedEventTypes") == ["Microsoft.Storage.BlobCreated"]
    assert uploads.get("properties.filter.subjectBeginsWith") == (
        f"/blobServices/default/containers/{recording_paths.RECORDINGS}/"
    )
    calls = targets["call_recording_ready"]
    assert calls.get("properties.filter.includedEventTypes") == [
        "Microsoft.Communication.RecordingFileStatusUpdated"
    ]


def test_system_topics_can_dead_letter_with_their_own_identity(files: list[BicepFile]) -> None:
    topics = declared(files, "Microsoft.EventGrid/systemTopics")
    assert {t.get("properties.topicType") for t in topics} == {
        "Microsoft.Storage.StorageAccounts",
        "Microsoft.Communication.CommunicationServices",
    }
    for topic in topics:
        assert topic.get("identity.type") == "SystemAssigned", topic.where
    grants = [
        r
        for r in declared(files, "Microsoft.Authorization/roleAssignments")
        if "identity.principalId" in str(r.body)
    ]
    assert len(grants) == len(topics)
    for grant in grants:
        assert grant.get("scope") == Expr("deadLetterContainer"), (
            f"{grant.where}: only the dead-letter container"
        )


def test_checkov_skips_are_justified(files: list[BicepFile]) -> None:
    for f in files:
        for number, line in enumerate(f.text.splitlines(), 1):
            match = re.search(r"checkov:skip=([A-Z0-9_]+)(.*)", line)
            if match:
                reason = match.group(2).lstrip(":").strip()
                assert len(reason) >= 30, f"{f.path.name}:{number}: {match.group(1)} needs its reason"


def test_parameters_file_matches_main_bicep() -> None:
    params = load(INFRA / "main.bicep").params
    values = json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"]
    assert set(values) <= set(params), f"not parameters of main.bicep: {set(values) - set(params)}"
    required = {name for name, p in params.items() if p.default is None}
    assert required <= set(values), f"main.bicep needs values for {required - set(values)}"
    for name, entry in values.items():
        value = entry["value"]
        if isinstance(value, str) and "${" in value:
            # azd substitutes environment values as text: only string parameters take them safely.
            assert params[name].type == "string", f"{name}: environment values are strings"
        allowed = params[name].allowed
        if allowed is not None and not (isinstance(value, str) and "${" in value):
            assert value in allowed, f"{name}: {value!r} is not one of {allowed}"


def test_azure_yaml_hooks_exist_and_are_strict() -> None:
    azure_yaml = (ROOT / "azure.yaml").read_text(encoding="utf-8")
    # Project hooks run at the root, service hooks in the service's folder (web/ for `web`).
    hooks = re.findall(r"run: \./(infra/hooks/\S+\.sh)", azure_yaml)
    hooks += re.findall(r"run: \.\./(infra/hooks/\S+\.sh)", azure_yaml)
    assert sorted(hooks) == [
        "infra/hooks/postdeploy.sh",
        "infra/hooks/postprovision.sh",
        "infra/hooks/preprovision.sh",
        "infra/hooks/web-prepackage.sh",
    ]
    for hook in hooks:
        text = (ROOT / hook).read_text(encoding="utf-8")
        assert text.startswith("#!/usr/bin/env bash\n"), hook
        assert "\nset -euo pipefail\n" in text, hook
        assert (ROOT / hook).stat().st_mode & 0o111, f"{hook} is not executable"
    assert "host: function" in azure_yaml
    assert "language: python" in azure_yaml
    service = re.search(r"\n  (\w+):\n    project: \.\n", azure_yaml)
    assert service, "azure.yaml has no service for the repository root"
    app = load(INFRA / "main.bicep")
    assert app.variables["serviceName"] == service.group(1), "azd finds the app by its azd-service-name tag"
