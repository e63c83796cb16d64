"""Reporter identities, encrypted at rest with an authenticated cipher (Fernet: AES + HMAC).

Keys come from the settings, newest first; older keys still decrypt, so a key can be rotated and
the stored identities re-encrypted (``alur keys rotate``). Decrypting is a reveal: callers record
who and why in the case history.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config import ConfigError, Settings
from service.store.models import Reporter

IDENTITY_FIELDS = ("nama", "nik", "alamat", "telepon", "email", "pekerjaan")


class IdentityVault:
    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise ConfigError("No identity key: set ALUR_IDENTITY_KEYS (Fernet keys, newest first)")
        try:
            self._cipher = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise ConfigError("ALUR_IDENTITY_KEYS holds a key that is not a Fernet key") from exc

    @classmethod
    def of(cls, settings: Settings) -> IdentityVault:
        return cls(settings.identity_keys)

    def seal(self, identity: dict[str, Any]) -> str:
        return self._cipher.encrypt(json.dumps(identity, sort_keys=True).encode()).decode()

    def open(self, ciphertext: str) -> dict[str, Any]:
        try:
            opened: dict[str, Any] = json.loads(self._cipher.decrypt(ciphertext.encode()))
        except InvalidToken as exc:
            raise ConfigError("A reporter identity cannot be decrypted with the configured keys") from exc
        return opened

    def rotate(self, session: Session) -> int:
        """Re-encrypt every stored identity with the newest key; returns how many."""
        count = 0
        for reporter in session.scalars(select(Reporter).where(Reporter.identity_ciphertext.is_not(None))):
            assert reporter.identity_ciphertext is not None
            reporter.identity_ciphertext = self._cipher.rotate(reporter.identity_ciphertext.encode()).decode()
            count += 1
        return count


def new_key() -> str:
    return Fernet.generate_key().decode()
