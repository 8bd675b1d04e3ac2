"""Keyed hashes of personal data (HMAC-SHA256). Pure.

Two keys with two lives:
- the audit key turns a phone number into the value the access log keeps, so that an auditor
  who types a number finds who looked it up, while the log itself shows no number. It is kept
  as long as the log.
- the pseudonym key replaces a caller's name, phone and e-mail when retention anonymises a
  ticket: the same person gets the same pseudonym, so repeat callers still count as repeats.
  Destroying (rotating) this key makes every pseudonym made with it irreversible for good.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass

PSEUDONYM_PREFIX = "~"


def _mac(key: str, purpose: str, value: str) -> bytes:
    return hmac.new(key.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()


def derive_key(secret: str, purpose: str) -> str:
    """A key for `purpose` from the app's secret, for installs that set none of their own."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PrivacyKeys:
    audit_key: str
    pseudonym_key: str

    def audit_hash(self, value: str) -> str:
        """64 hex characters identifying an E.164 phone (or lower-case e-mail) in the log."""
        return _mac(self.audit_key, "audit", value).hex()

    def pseudonym(self, value: str, kind: str) -> str:
        """A stable stand-in for a name, phone or e-mail: '~' + 19 base32 characters (95 bits),
        short enough for the phone column (20). kind: name, phone or email."""
        digest = _mac(self.pseudonym_key, kind, value)
        return PSEUDONYM_PREFIX + base64.b32encode(digest).decode().lower()[:19]


def is_pseudonym(value: str | None) -> bool:
    return value is not None and value.startswith(PSEUDONYM_PREFIX)
