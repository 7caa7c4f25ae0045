"""The GitHub workflows: CI runs what .ci/run runs, deployment signs in with OIDC and stores no secret."""

from __future__ import annotations

import re

from tests.infra.bicep_text import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def test_ci_runs_make_test_through_ci_run() -> None:
    ci = (WORKFLOWS / "ci.yml").read_text(encoding="utf-8")
    assert "run: bash .ci/run" in ci
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'python-version: "3.11"' in ci


def test_deploy_uses_federated_credentials_and_no_secret() -> None:
    deploy = (WORKFLOWS / "deploy.yml").read_text(encoding="utf-8")
    assert "secrets." not in deploy, "deployment must not depend on stored secrets"
    assert not re.search(r"client-secret|AZURE_CREDENTIALS|password", deploy, re.I)
    assert "id-token: write" in deploy
    assert "--federated-credential-provider github" in deploy
    assert "uses: azure/login@v2" in deploy
    for step in ("azd provision --no-prompt", "azd deploy --no-prompt"):
        assert step in deploy
    # Deployment follows a green CI run, of the commit CI tested.
    assert "workflow_run" in deploy
    assert "github.event.workflow_run.conclusion == 'success'" in deploy
    assert "head_sha" in deploy
