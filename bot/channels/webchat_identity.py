"""Who a web chat citizen is: signed, site-scoped tokens and the sites' embedding rules.

A token is `v1.<site>.<subject>.<signature>`: the subject is random for an anonymous citizen
(`a:` + 128 random bits) or the host site's user id for a signed login (`u:` + id). Tokens are
stateless; the HMAC makes them unguessable and binds them to their site.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.channels.errors import ChannelError

TOKEN_VERSION = "v1"
SITE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
USER_PATTERN = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces


class WebchatRefused(ChannelError):
    """A connection we refuse; `code` is the WebSocket close code the widget acts on."""

    code = 4400


class BadIdentity(WebchatRefused):
    code = 4401  # the widget forgets its token and connects afresh


class SiteNotAllowed(WebchatRefused):
    code = 4403  # the widget stops: retrying cannot help


@dataclass(frozen=True)
class WidgetIdentity:
    site: str
    subject: str

    @property
    def user_id(self) -> str:
        """The conversation store's user id: site-scoped, so sites never share a history."""
        return f"{self.site}:{self.subject}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the widget secret must be at least 16 bytes")
        self._secret = secret

    def _sign(self, site: str, subject: str) -> str:
        message = f"{TOKEN_VERSION}|{site}|{subject}".encode()
        return _b64(hmac.new(self._secret, message, hashlib.sha256).digest())

    def issue(self, identity: WidgetIdentity) -> str:
        subject = _b64(identity.subject.encode())
        return f"{TOKEN_VERSION}.{identity.site}.{subject}.{self._sign(identity.site, identity.subject)}"

    def verify(self, token: str, site: str) -> WidgetIdentity:
        parts = token.split(".") if len(token) <= 256 else []
        if len(parts) != 4 or parts[0] != TOKEN_VERSION or parts[1] != site:
            raise BadIdentity("token malformed or for another site")
        try:
            subject = _unb64(parts[2]).decode()
        except (ValueError, UnicodeDecodeError):
            raise BadIdentity("token malformed") from None
        if not hmac.compare_digest(parts[3], self._sign(site, subject)):
            raise BadIdentity("token signature does not match")
        return WidgetIdentity(site, subject)

    @staticmethod
    def subject_of(token: str) -> str:
        """The subject a token names, unverified (for logs and tests)."""
        return _unb64(token.split(".")[2]).decode()

    @staticmethod
    def anonymous(site: str) -> WidgetIdentity:
        return WidgetIdentity(site, "a:" + secrets.token_urlsafe(16))


def load_or_create_secret(path: Path) -> bytes:
    """The deployment's widget secret: generated once, readable by the owner only."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
    return secret


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class SitePolicy:
    """Which sites exist, which origins may embed each, and their login-signing secrets."""

    def __init__(
        self, allowed_origins: Mapping[str, Sequence[str]], site_secrets: Mapping[str, str]
    ) -> None:
        for site in allowed_origins:
            if not SITE_PATTERN.match(site):
                raise ValueError(f"bad widget site id {site!r}: letters, digits, _ and -")
        self._origins = {site: {origin_of(o) for o in origins} for site, origins in allowed_origins.items()}
        self._secrets = {site: secret.encode() for site, secret in site_secrets.items()}

    def check(self, site: str | None, origin: str | None, host: str | None) -> str:
        """The site, when it exists and `origin` may embed it; the server's own pages always
        may. Non-browser clients send no Origin; browsers always do, so they are checked."""
        if not site or site not in self._origins:
            raise SiteNotAllowed("unknown site")
        if origin is None:
            return site
        origin = origin.lower()
        own = host is not None and urlsplit(origin).netloc == host.lower()
        if not own and origin not in self._origins[site]:
            raise SiteNotAllowed("origin not allowed for this site")
        return site

    def allowed_origin(self, site: str | None, origin: str | None, host: str | None) -> bool:
        try:
            self.check(site, origin, host)
        except SiteNotAllowed:
            return False
        return True

    def allows_anywhere(self, origin: str) -> bool:
        """Whether some site lets `origin` embed it (a CORS preflight names no site)."""
        return any(origin.lower() in origins for origins in self._origins.values())

    def signed_user(self, site: str, user: str, user_hash: str) -> WidgetIdentity:
        """The host site's logged-in user, when `user_hash` is HMAC-SHA256(site secret, user)."""
        secret = self._secrets.get(site)
        if secret is None or not USER_PATTERN.match(user):
            raise BadIdentity("signed login not configured for this site, or bad user id")
        expected = hmac.new(secret, user.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(user_hash.lower().encode(), expected.encode()):
            raise BadIdentity("user hash does not match")
        return WidgetIdentity(site, "u:" + user)
