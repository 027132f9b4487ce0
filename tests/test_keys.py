"""Key pairs for Snowflake key-pair authentication (aidemo.backends.keys)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from aidemo.backends.keys import (
    fingerprint,
    generate_key_pair,
    load_private_key,
    public_key_body,
    public_key_of,
    unencrypted_pkcs8,
)
from aidemo.errors import ConfigError, KeyPairError


def _spki_der(public_pem: str) -> bytes:
    key = serialization.load_pem_public_key(public_pem.encode())
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_generated_pair_is_pkcs8_pem(plain_keys):
    assert plain_keys.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert plain_keys.private_key_pem.rstrip().endswith("-----END PRIVATE KEY-----")
    assert plain_keys.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    key = load_private_key(plain_keys.private_key_pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    assert public_key_of(plain_keys.private_key_pem) == plain_keys.public_key_pem


def test_key_size_is_honoured():
    assert load_private_key(generate_key_pair(bits=3072).private_key_pem).key_size == 3072


def test_passphrase_round_trip(encrypted_keys):
    assert encrypted_keys.private_key_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    key = load_private_key(encrypted_keys.private_key_pem, "s3cret")
    assert public_key_of(encrypted_keys.private_key_pem, "s3cret") == encrypted_keys.public_key_pem

    clear = unencrypted_pkcs8(encrypted_keys.private_key_pem, "s3cret")
    assert clear.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert load_private_key(clear).private_numbers() == key.private_numbers()


def test_wrong_passphrase(encrypted_keys):
    with pytest.raises(KeyPairError, match="wrong passphrase"):
        load_private_key(encrypted_keys.private_key_pem, "not-it")


def test_missing_passphrase_names_the_setting(encrypted_keys):
    with pytest.raises(KeyPairError, match="encrypted: set private_key_passphrase.*PRIVATE_KEY_PASSPHRASE"):
        load_private_key(encrypted_keys.private_key_pem)


def test_passphrase_for_a_plain_key(plain_keys):
    with pytest.raises(KeyPairError, match="not encrypted: remove private_key_passphrase"):
        load_private_key(plain_keys.private_key_pem, "s3cret")


@pytest.mark.parametrize("text", ["", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "~/.ssh/rsa_key.p8"])
def test_non_pem_text(text):
    with pytest.raises(KeyPairError, match="not PEM text.*BEGIN PRIVATE KEY"):
        load_private_key(text)


def test_damaged_pem(plain_keys):
    lines = plain_keys.private_key_pem.splitlines()
    damaged = "\n".join([lines[0], *lines[3:]])  # two body lines lost
    with pytest.raises(KeyPairError, match="cannot read the private key"):
        load_private_key(damaged)


def test_non_rsa_key_is_refused():
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyPairError, match="not an RSA key"):
        load_private_key(ec_pem)
    with pytest.raises(KeyPairError, match="not an RSA key"):
        load_private_key(ec_pem.decode())


def test_key_pair_error_is_a_config_error():
    with pytest.raises(ConfigError):
        load_private_key("nonsense")


def test_public_key_body_is_bare_base64(plain_keys):
    body = plain_keys.public_key_body
    assert body == public_key_body(plain_keys.public_key_pem)
    assert "-----" not in body and "\n" not in body and " " not in body
    assert base64.b64decode(body, validate=True) == _spki_der(plain_keys.public_key_pem)


def test_fingerprint_matches_an_independent_computation(plain_keys, encrypted_keys):
    for pair in (plain_keys, encrypted_keys):
        expected = "SHA256:" + base64.b64encode(hashlib.sha256(_spki_der(pair.public_key_pem)).digest()).decode()
        assert pair.fingerprint == expected
        assert fingerprint(pair.public_key_pem) == expected
    assert plain_keys.fingerprint != encrypted_keys.fingerprint


def test_alter_user_sql(plain_keys):
    sql = plain_keys.alter_user_sql("DEMO_USER")
    prefix, suffix = "ALTER USER DEMO_USER SET RSA_PUBLIC_KEY='", "';"
    assert sql.startswith(prefix) and sql.endswith(suffix)
    quoted = sql[len(prefix) : -len(suffix)]
    assert base64.b64decode(quoted, validate=True) == _spki_der(plain_keys.public_key_pem)


def test_repr_hides_the_private_key(encrypted_keys):
    text = repr(encrypted_keys)
    body_line = encrypted_keys.private_key_pem.splitlines()[1]
    assert body_line not in text and "PRIVATE KEY" not in text
    assert "<hidden>" in text and encrypted_keys.fingerprint in text
