"""The App's private key: parsed once at start-up, RSA only, and the JWTs it signs verify."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from align.service.github_client import GitHubGateway
from align.service.metrics import Metrics
from align.service.settings import SettingsError
from tests.service.conftest import make_settings


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_non_rsa_and_garbage_keys_are_refused_at_start_up() -> None:
    with pytest.raises(SettingsError, match="not an RSA key"):
        GitHubGateway(make_settings(private_key=_pem(ec.generate_private_key(ec.SECP256R1()))), Metrics())
    with pytest.raises(SettingsError, match="not a PEM private key"):
        GitHubGateway(make_settings(private_key="-----BEGIN PRIVATE KEY-----\nnope\n"), Metrics())


def test_jwt_is_rs256_signed_by_the_configured_key() -> None:
    settings = make_settings()
    gateway = GitHubGateway(settings, Metrics())
    token = gateway._integration.auth.token  # type: ignore[attr-defined]
    assert settings.private_key is not None
    public = serialization.load_pem_private_key(settings.private_key.get_secret_value().encode(), None).public_key()
    claims = jwt.decode(token, key=public, algorithms=["RS256"])  # type: ignore[arg-type]
    assert claims["iss"] == "1"
    assert claims["exp"] - claims["iat"] <= 600
