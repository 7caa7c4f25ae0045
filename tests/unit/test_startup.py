"""Fail closed: dev auth and a generated signing key are refused wherever any hosted environment shows."""

from __future__ import annotations

import pytest

from shared.config import ConfigurationError, Settings
from shared.startup import HOSTED_SIGNS, refuse_unsafe_start, unsafe_configuration


@pytest.fixture(autouse=True)
def on_a_laptop(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in HOSTED_SIGNS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AUTH_MODE", raising=False)


@pytest.mark.parametrize("sign", HOSTED_SIGNS)
def test_dev_auth_is_refused_on_any_sign_of_a_host(monkeypatch: pytest.MonkeyPatch, sign: str) -> None:
    monkeypatch.setenv(sign, "x")
    # The default mode is dev: not choosing a mode on a host is refused too.
    with pytest.raises(RuntimeError, match=sign):
        refuse_unsafe_start()
    with pytest.raises(ConfigurationError, match="AUTH_MODE=dev"):
        Settings()


@pytest.mark.parametrize("sign", HOSTED_SIGNS)
def test_a_host_needs_a_shared_signing_key(monkeypatch: pytest.MonkeyPatch, sign: str) -> None:
    monkeypatch.setenv(sign, "x")
    with pytest.raises(ConfigurationError, match="SIGNING_KEY"):
        Settings(auth_mode="easyauth")
    assert Settings(auth_mode="easyauth", signing_key="k" * 32).running_in_azure


def test_a_laptop_runs_dev_auth_with_a_local_key() -> None:
    refuse_unsafe_start()
    settings = Settings()
    assert settings.auth_mode == "dev"
    assert not settings.running_in_azure


def test_func_start_locally_is_not_a_host() -> None:
    # What Core Tools set under `func start`: none of them is a sign of a hosted environment.
    local = {"AUTH_MODE": "dev", "FUNCTIONS_WORKER_RUNTIME": "python", "WEBSITE_HOSTNAME": "localhost:7071"}
    assert unsafe_configuration(local) is None


def test_blank_values_are_not_signs() -> None:
    assert unsafe_configuration({"WEBSITE_SITE_NAME": " "}) is None
