"""The authorizer's environment: a missing or malformed variable fails the cold start with
an error naming it; optional variables left empty mean "not set"."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.support.lambda_zip import load_module

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"


@pytest.fixture
def config() -> ModuleType:
    return load_module("authorizer", "incident_ws.auth.config")


def configure(config: ModuleType, **env: str):
    return config.load_authorizer_config({"OIDC_ISSUER": ISSUER, "OIDC_AUDIENCES": "app", **env})


def test_cold_start_without_oidc_issuer_fails_naming_it(load, monkeypatch):
    monkeypatch.delenv("OIDC_ISSUER", raising=False)

    with pytest.raises(Exception, match="OIDC_ISSUER") as raised:
        load("authorizer", OIDC_AUDIENCES="app")

    assert type(raised.value).__name__ == "ConfigError"


def test_configuration_is_read_and_normalised(config):
    loaded = configure(
        config,
        OIDC_AUDIENCES=" app-1 ,app-2",
        ACCOUNTS_CLAIM=" custom:accounts ",
        ALLOWED_ORIGINS="https://SOC.example.com/, http://localhost:8080",
    )

    assert loaded == config.AuthorizerConfig(
        issuer=ISSUER,
        audiences=frozenset({"app-1", "app-2"}),
        accounts_claim="custom:accounts",
        allowed_origins=frozenset({"https://soc.example.com", "http://localhost:8080"}),
    )


def test_empty_optional_variables_are_not_set(config):
    loaded = configure(config, ACCOUNTS_CLAIM=" ", ALLOWED_ORIGINS="")

    assert loaded.accounts_claim is None
    assert loaded.allowed_origins is None


@pytest.mark.parametrize(
    "issuer",
    [
        "http://127.0.0.1:8900",
        "http://localhost:8900/realms/soc",
        "http://[::1]:8900",
        "https://login.microsoftonline.com/tenant-id/v2.0",
        "https://soc.eu.auth0.com/",
    ],
)
def test_https_issuers_and_loopback_http_issuers_are_accepted(config, issuer):
    assert configure(config, OIDC_ISSUER=issuer).issuer == issuer


@pytest.mark.parametrize(
    "issuer",
    [
        "",
        "   ",
        "http://idp.example.com",
        "http://127.0.0.2",
        "http://localhost.example.com",
        "ftp://idp.example.com",
        "idp.example.com",
        "https://",
        "https://idp.example.com?tenant=1",
        "https://idp.example.com#frag",
        "https://user@idp.example.com",
        "https://idp.example.com:port",
    ],
)
def test_untrusted_or_malformed_issuer_is_refused_naming_oidc_issuer(config, issuer):
    with pytest.raises(config.ConfigError, match="OIDC_ISSUER"):
        configure(config, OIDC_ISSUER=issuer)


@pytest.mark.parametrize("audiences", ["", " ", "app,", ",app", "a,,b"])
def test_missing_or_empty_audience_is_refused_naming_oidc_audiences(config, audiences):
    with pytest.raises(config.ConfigError, match="OIDC_AUDIENCES"):
        configure(config, OIDC_AUDIENCES=audiences)


def test_accounts_claim_with_a_space_is_refused_naming_it(config):
    with pytest.raises(config.ConfigError, match="ACCOUNTS_CLAIM"):
        configure(config, ACCOUNTS_CLAIM="my accounts")


@pytest.mark.parametrize(
    "origins",
    [
        "soc.example.com",
        "https://soc.example.com/dashboard",
        "https://soc.example.com?x=1",
        "wss://soc.example.com",
        "https://soc.example.com,",
        "https://soc.example.com:port",
    ],
)
def test_malformed_allowed_origins_is_refused_naming_it(config, origins):
    with pytest.raises(config.ConfigError, match="ALLOWED_ORIGINS"):
        configure(config, ALLOWED_ORIGINS=origins)
