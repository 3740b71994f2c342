"""Ed25519 signatures that tie a disclosure package to the organisation that exported it.

Digests alone prove nothing about who made a package: anyone can change a snapshot and the custody
log and recompute every digest. The exporter therefore signs a short statement listing the SHA-256
of manifest.json (which lists every other file) and of custody.jsonl, with a private key that lives
in a file outside the database (`plugwatch evidence keygen KEYFILE`; owner-only, never overwritten).
The recipient checks it with the public key (KEYFILE.pub) obtained from the exporter out of band.

Library: `cryptography` (Ed25519 from OpenSSL). pycryptodome, which plugwatch already uses for
Keccak, can sign Ed25519 too; `cryptography` was chosen because it is the same OpenSSL code a
recipient without plugwatch uses to check the signature (`openssl pkeyutl -verify -rawin`), its keys
are standard PEM, and it is the more widely reviewed of the two for this job.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from plugwatch.errors import UserError
from plugwatch.keyfiles import create_new, read_private

KEY_ENV = "PLUGWATCH_SIGNING_KEY_FILE"
ALGORITHM = "Ed25519"
SIGNED_LIST = "signature.sha256"  # `sha256sum` lines of the signed files: what the signature covers
SIGNATURE = "signature.sig"  # the raw 64-byte Ed25519 signature of SIGNED_LIST
SIGNED_FILES = ("custody.jsonl", "manifest.json")
NO_KEY = (f"no evidence signing key: create one with `plugwatch evidence keygen KEYFILE`, then give it with "
          f"--signing-key KEYFILE or {KEY_ENV}=KEYFILE (send KEYFILE.pub to those who receive your packages)")


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """`sha256:` + SHA-256 of the key's DER SubjectPublicKeyInfo, which `openssl pkey -pubin -in KEY.pub
    -outform DER | sha256sum` also prints."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey
    path: Path

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key.public_key())

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)


def public_path(key_path: str | Path) -> Path:
    p = Path(key_path).expanduser()
    return p.with_name(p.name + ".pub")


def generate_keypair(path: str | Path) -> tuple[Path, Path, str]:
    """Write a new private key to `path` (PEM, mode 0600) and its public key to `path`.pub (PEM, 0644);
    neither may exist yet. Returns both paths and the fingerprint."""
    key = Ed25519PrivateKey.generate()
    pub = public_path(path)
    if pub.exists():
        raise UserError(f"{pub} exists: it belongs to another signing key; remove it first if you mean it")
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    why = "a new key would not match the public key your recipients hold"
    private = create_new(path, private_pem, "signing key", why)
    public = create_new(pub, public_pem, "public key", why, mode=0o644)
    return private, public, fingerprint(key.public_key())


class NoSigningKey(UserError):
    """No signing key is configured (NO_KEY says how to give one on the command line)."""


SERVICE_NO_KEY = (f"the service has no evidence signing key: start `plugwatch serve` with {KEY_ENV}=KEYFILE "
                  "(make one with `plugwatch evidence keygen KEYFILE`)")


def load_signer(path: str | Path | None = None) -> Signer:
    """The signing key from `path`, else from the file $PLUGWATCH_SIGNING_KEY_FILE names."""
    where = path or os.environ.get(KEY_ENV)
    if not where:
        raise NoSigningKey(NO_KEY)
    p = Path(where).expanduser()
    data = read_private(p, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise UserError(f"{p}: not an unencrypted PEM private key (make one with `plugwatch evidence keygen`)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"{p}: not an Ed25519 key (make one with `plugwatch evidence keygen`)")
    return Signer(key, p)


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    p = Path(path).expanduser()
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise UserError(f"{p}: is a folder; give the public key file (KEYFILE.pub)") from None
    except OSError as e:
        raise UserError(f"{p}: cannot read the public key ({e.strerror})") from None
    if b"PRIVATE KEY" in data:
        raise UserError(f"{p} is a private key: give the public key (KEYFILE.pub) and keep the private key secret")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise UserError(f"{p}: not a PEM public key (the KEYFILE.pub `plugwatch evidence keygen` wrote)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise UserError(f"{p}: not an Ed25519 public key")
    return key


def signed_list(files: dict[str, bytes]) -> bytes:
    """The statement that is signed: one `sha256sum` line per signed file, so `sha256sum -c` checks it."""
    return b"".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n".encode() for name in SIGNED_FILES)


def signature_valid(public_key: Ed25519PublicKey, statement: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(signature, statement)
    except InvalidSignature:
        return False
    return True
