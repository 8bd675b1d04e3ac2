"""Standard Webhooks v1 headers.

The signature is `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")), the secret
being the base64 after `whsec_`. A few lines of the standard library; the tests verify them
with the `standardwebhooks` package, so signer and verifier are independent.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from functools import lru_cache

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: `whsec_` + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


@lru_cache(maxsize=1024)
def _key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret (decoded once, not for every request)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    signed = f"{message_id}.{timestamp}.{body}".encode()
    return (
        "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
    )


def headers(message_id: str, at: datetime, body: str, secrets_: list[str]) -> dict[str, str]:
    """webhook-id, webhook-timestamp (Unix seconds) and webhook-signature (one `v1,…` per
    secret, space separated: after a rotation both the new and the old secret sign)."""
    timestamp = int(at.timestamp())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, message_id, timestamp, body) for s in secrets_),
        "content-type": "application/json",
    }
