"""Secrets kept encrypted at rest (webhook signing secrets), with keys that can rotate.

Each key given (``SECRET_KEY``, then older ones) is stretched into a Fernet key; the first
encrypts, every one decrypts (``MultiFernet``). To rotate: put the new key first and keep
the old ones after it until ``rotate`` has re-encrypted what was stored with them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

# Tells the Fernet keys made here from any other use of the same SECRET_KEY.
_CONTEXT = b"releasebot/secrets/v1\x00"


class UndecryptableSecret(Exception):
    """A stored secret none of the keys decrypts (SECRET_KEY changed, the old one dropped)."""


def fernet_key(key: str | bytes) -> bytes:
    """The Fernet key derived from a configured key of any length (SHA-256, urlsafe base64)."""
    raw = key.encode() if isinstance(key, str) else key
    if not raw:
        raise ValueError("a secret key must not be empty")
    return base64.urlsafe_b64encode(hashlib.sha256(_CONTEXT + raw).digest())


class SecretBox:
    """Encrypts with the first of ``keys``, decrypts with any of them."""

    def __init__(self, keys: Sequence[str | bytes] | str | bytes) -> None:
        listed = [keys] if isinstance(keys, str | bytes) else list(keys)
        if not listed:
            raise ValueError("at least one secret key is needed")
        fernets = [Fernet(fernet_key(k)) for k in listed]
        self._first = fernets[0]
        self._fernet = MultiFernet(fernets)

    @classmethod
    def random(cls) -> SecretBox:
        """A key made for this process only: what it encrypts is lost with it (dev, tests)."""
        return cls(secrets.token_bytes(32))

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret(
                "a stored secret cannot be decrypted with any configured SECRET_KEY"
            ) from None

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is encrypted with the first key (nothing to rotate)."""
        try:
            self._first.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """``token`` encrypted again with the first key (after a new key was put first)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret(
                "a stored secret cannot be decrypted with any configured SECRET_KEY"
            ) from None
