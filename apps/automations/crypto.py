"""Secrets at rest: Fernet (AES-128-CBC with HMAC-SHA256) under keys from settings.

SECRETS_ENCRYPTION_KEYS lists passphrases, newest first: values are written under the first and
read under any, so a key is rotated by putting the new one first, and the old one dropped once
every value has been saved again. Unset, the one key is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def _fernet_key(passphrase: str) -> bytes:
    # A passphrase of any length becomes a 32-byte key; the salt keeps it apart from other
    # uses of the same passphrase (SECRET_KEY signs sessions too).
    digest = hashlib.pbkdf2_hmac("sha256", passphrase.encode(), b"registry-secrets", 100_000)
    return base64.urlsafe_b64encode(digest)


@cache
def _cipher(passphrases: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(p)) for p in passphrases])


def cipher() -> MultiFernet:
    passphrases = tuple(getattr(settings, "SECRETS_ENCRYPTION_KEYS", None) or [settings.SECRET_KEY])
    return _cipher(passphrases)


def encrypt(value: str) -> str:
    return cipher().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with SECRETS_ENCRYPTION_KEYS: put back the key "
            "it was written under (keys are tried in order; keep old ones after the new)."
        ) from None


class EncryptedTextField(models.TextField):
    """Text stored encrypted; Python sees the plain value. Not searchable, by design."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)
