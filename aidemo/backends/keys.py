"""RSA key pairs for Snowflake key-pair authentication (the kit's face of :mod:`aidemo.local.process.keys`).

The helpers live with the local service, which needs them to stand alone; here they raise the
kit's :class:`~aidemo.errors.KeyPairError`.
"""

from __future__ import annotations

from aidemo.errors import from_local
from aidemo.local.process import keys as _keys
from aidemo.local.process.keys import KeyPair, fingerprint, generate_key_pair, public_key_body

__all__ = [
    "KeyPair",
    "fingerprint",
    "generate_key_pair",
    "keypair_jwt",
    "load_private_key",
    "public_key_body",
    "public_key_of",
    "unencrypted_pkcs8",
]

load_private_key = from_local()(_keys.load_private_key)
unencrypted_pkcs8 = from_local()(_keys.unencrypted_pkcs8)
public_key_of = from_local()(_keys.public_key_of)
keypair_jwt = from_local()(_keys.keypair_jwt)
