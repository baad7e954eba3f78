"""GitHub App authentication: app JWTs, installation tokens, and who may touch which repository."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from align.simulator import errors
from align.simulator.errors import GitHubError
from align.simulator.state import App, Installation, Repository, State, Token, User

TOKEN_LIFETIME = 3600.0
MAX_JWT_LIFETIME = 600.0
LEVELS = {"read": 1, "write": 2, "admin": 3}
TOKEN_REPOS_INACCESSIBLE = (
    "There is at least one repository that does not exist or is not accessible to the parent installation."
)
PERMISSIONS_NOT_GRANTED = "The permissions requested are not granted to this installation."


@dataclass(frozen=True)
class Principal:
    kind: str  # "anonymous" | "app" | "installation"
    app: App | None = None
    token: Token | None = None

    @property
    def bucket(self) -> str:
        """The rate-limit budget this caller spends."""
        if self.token is not None:
            return f"installation:{self.token.installation_id}"
        if self.app is not None:
            return f"app:{self.app.id}"
        return "anonymous"

    @property
    def actor(self) -> User | None:
        """The account that writes appear under (the app's bot user for installation tokens)."""
        return self.app.bot if self.app is not None and self.token is not None else None


ANONYMOUS = Principal("anonymous")


def generate_app_key_pair() -> tuple[str, str]:
    """A GitHub App key pair as GitHub issues it (RSA 2048, PKCS#8): (private PEM, public PEM), for the demo
    and tests that register an app with the simulator."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


def authenticate(state: State, authorization: str | None) -> Principal:
    if not authorization:
        return ANONYMOUS
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() not in ("bearer", "token") or not credential:
        raise GitHubError(401, errors.BAD_CREDENTIALS)
    if credential.count(".") == 2:
        return Principal("app", app=verify_jwt(state, credential))
    token = state.tokens.get(credential)
    if token is None or token.expires_at <= state.now():
        raise GitHubError(401, errors.BAD_CREDENTIALS)
    installation = state.installations.get(token.installation_id)
    if installation is None:
        raise GitHubError(401, errors.BAD_CREDENTIALS)
    return Principal("installation", app=state.apps[installation.app_id], token=token)


def _app_for_issuer(state: State, issuer: Any) -> App | None:
    for app in state.apps.values():
        if str(issuer) in (str(app.id), f"Iv1.{app.id:016x}"):
            return app
    return None


def verify_jwt(state: State, token: str) -> App:
    """Check an app JWT the way GitHub does: RS256 with the app's key, iss, iat in the past, exp <= 10 min."""
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        app = _app_for_issuer(state, unverified.get("iss"))
        if app is None:
            raise GitHubError(401, errors.JWT_UNDECODABLE)
        claims = jwt.decode(
            token,
            app.public_key_pem,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "require": ["iss"]},
        )
    except jwt.PyJWTError as exc:
        raise GitHubError(401, errors.JWT_UNDECODABLE) from exc
    now = state.now()
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or iat > now:
        raise GitHubError(401, errors.JWT_IAT)
    if not isinstance(exp, int) or exp <= now:
        raise GitHubError(401, errors.JWT_EXPIRED)
    if exp - now > MAX_JWT_LIFETIME:
        raise GitHubError(401, errors.JWT_TOO_LONG)
    return app


def _new_token_value() -> str:
    # Longer than the classic 40 characters on purpose: clients must not validate token length.
    alphabet = string.ascii_letters + string.digits
    return "ghs_" + "".join(secrets.choice(alphabet) for _ in range(52))


def accessible_repos(state: State, installation: Installation) -> list[Repository]:
    return [r for r in state.repos.values() if state.installation_for(r, installation.app_id) is installation]


def issue_token(state: State, installation: Installation, body: dict[str, Any]) -> tuple[Token, list[Repository]]:
    """Create an installation token, narrowed to the requested repositories and permissions."""
    available = {r.name.lower(): r for r in accessible_repos(state, installation)}
    by_id = {r.id: r for r in available.values()}
    chosen: list[Repository] = []
    names = body.get("repositories")
    ids = body.get("repository_ids")
    if names is not None or ids is not None:
        for name in names or []:
            repo = available.get(str(name).lower())
            if repo is None:
                raise GitHubError(422, TOKEN_REPOS_INACCESSIBLE)
            chosen.append(repo)
        for ident in ids or []:
            if ident not in by_id:
                raise GitHubError(422, TOKEN_REPOS_INACCESSIBLE)
            chosen.append(by_id[ident])
    requested = body.get("permissions") or {}
    if not isinstance(requested, dict):
        raise errors.validation_failed("InstallationToken", "permissions", "invalid")
    for name, level in requested.items():
        granted = installation.permissions.get(name)
        if granted is None or level not in LEVELS or LEVELS[level] > LEVELS.get(granted, 0):
            raise GitHubError(422, PERMISSIONS_NOT_GRANTED)
    permissions = dict(requested) if requested else dict(installation.permissions)
    permissions.setdefault("metadata", "read")  # every installation token can read metadata
    token = Token(
        value=_new_token_value(),
        installation_id=installation.id,
        expires_at=state.now() + TOKEN_LIFETIME,
        permissions=permissions,
        repositories=frozenset(r.key for r in chosen) if chosen else None,
    )
    state.tokens[token.value] = token
    return token, chosen


def require_permission(principal: Principal, alternatives: tuple[tuple[str, str], ...]) -> None:
    """403 unless the token holds at least one of the (permission, level) alternatives."""
    if principal.token is None or not alternatives:
        return
    granted = principal.token.permissions
    if not any(LEVELS.get(granted.get(name, ""), 0) >= LEVELS[level] for name, level in alternatives):
        raise GitHubError(403, errors.NOT_ACCESSIBLE)


def can_see_repo(state: State, principal: Principal, repo: Repository) -> bool:
    if principal.token is None:
        return principal.kind == "anonymous" and not repo.private
    installation = state.installations.get(principal.token.installation_id)
    if installation is None or state.installation_for(repo, installation.app_id) is not installation:
        return False
    return principal.token.repositories is None or repo.key in principal.token.repositories
