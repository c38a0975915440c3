"""The bootstrap's encryption: every backend must produce what EG's ResponseManager decrypts, and
the pure-Python fallback must be real AES-128 and PKCS#1 v1.5 (checked against pycryptodomex)."""

import base64
import json
import os

import bootstrap
import pytest
from Cryptodome.Cipher import AES, PKCS1_v1_5
from Cryptodome.PublicKey import RSA
from enterprise_gateway.services.processproxies.processproxy import ResponseManager


def test_pure_aes128_matches_the_fips197_vector():
    key = bytes(range(16))
    plaintext = bytes.fromhex("00112233445566778899aabbccddeeff")
    assert bootstrap.aes128_ecb_encrypt_pure(key, plaintext).hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_pure_aes128_matches_pycryptodomex_on_random_input():
    for blocks in range(1, 40):
        key, data = os.urandom(16), os.urandom(16 * blocks)
        assert bootstrap.aes128_ecb_encrypt_pure(key, data) == AES.new(key, AES.MODE_ECB).encrypt(data)


@pytest.mark.parametrize("bits", [1024, 2048])
def test_pure_rsa_pkcs1v15_decrypts_with_pycryptodomex(bits):
    private = RSA.generate(bits)
    spki = private.publickey().export_key("DER")
    for _ in range(5):
        secret = os.urandom(16)
        encrypted = bootstrap.rsa_pkcs1v15_encrypt_pure(spki, secret)
        assert len(encrypted) == bits // 8
        assert PKCS1_v1_5.new(private).decrypt(encrypted, None) == secret


def test_rsa_public_numbers_read_both_encodings():
    private = RSA.generate(1024)
    public = private.publickey()
    assert bootstrap.rsa_public_numbers(public.export_key("DER")) == (public.n, public.e)
    assert bootstrap.rsa_public_numbers(public.export_key("DER", pkcs=1)) == (public.n, public.e)
    with pytest.raises(ValueError):
        bootstrap.rsa_public_numbers(b"\x30\x03\x02\x01")


class _Decoder:
    """EG's ResponseManager decoding with a key pair of our own (no socket, no event loop)."""

    def __init__(self):
        self._private_key = RSA.generate(1024)
        self._response_registry = {}
        self.log = __import__("logging").getLogger("eg")
        self.public_key_der = base64.b64decode(
            self._private_key.publickey().export_key("PEM").decode()
            .replace("-----BEGIN PUBLIC KEY-----", "").replace("-----END PUBLIC KEY-----", "").replace("\n", "")
        )

    def decode(self, payload: bytes) -> dict:
        return ResponseManager._decode_payload(self, payload.decode())


@pytest.mark.parametrize("backend", ["pure-python", "pycryptodomex", "cryptography"])
def test_each_backend_speaks_eg_payload_version_1(backend):
    decoder = _Decoder()
    info = {"kernel_id": "k", "shell_port": 1, "key": "s3cr3t", "comm_port": 7, "text": "ü" * 100}
    payload = bootstrap.encrypted_payload(info, decoder.public_key_der, backend)
    assert json.loads(base64.b64decode(payload))["version"] == 1
    assert decoder.decode(payload) == info


def test_the_backend_is_chosen_from_what_the_image_has(monkeypatch):
    assert bootstrap.crypto_backend() == "pycryptodomex"  # the gateway venv has it
    monkeypatch.setenv("KERNEL_BOOTSTRAP_CRYPTO", "pure-python")
    assert bootstrap.crypto_backend() == "pure-python"
