"""Secrets and records that must live outside the database: where they go and how they are written.

A copy of the database (a backup, a read-only replica, a leaked dump) must not carry the keys that
make pseudonyms or sign evidence, nor the published audit heads that prove the log was not cut back.
Each key is a file named by an option or an environment variable; files plugwatch keeps on its own
(the audit head log) go in the key folder: `$PLUGWATCH_KEY_DIR`, else `~/.config/plugwatch`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from plugwatch.errors import UserError

KEY_DIR_ENV = "PLUGWATCH_KEY_DIR"


def key_dir() -> Path:
    """The folder for files kept outside the database (created owner-only when first written to)."""
    where = os.environ.get(KEY_DIR_ENV)
    if where:
        return Path(where).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME")
    return (Path(config).expanduser() if config else Path.home() / ".config") / "plugwatch"


def make_private_dir(path: Path) -> None:
    """Create `path` (and parents) readable by the owner only; an existing folder is left as it is."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:  # FileExistsError too: the folder's name is taken by a file
        raise UserError(f"cannot use {path} as a folder for keys ({e.strerror})") from None


def create_new(path: str | Path, data: bytes, what: str, why_not_overwrite: str, mode: int = 0o600) -> Path:
    """Write `data` to a file that must not exist yet (owner-only by default); never overwrites."""
    p = Path(path).expanduser()
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # FileExistsError too: the folder's name is taken by a file
        raise UserError(f"cannot write the {what} to {p}: {p.parent} is not a folder ({e.strerror})") from None
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise UserError(f"{p} exists: {why_not_overwrite}; remove it first if you mean it") from None
    except OSError as e:
        raise UserError(f"cannot write the {what} to {p}: {e.strerror}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(p, mode)  # the umask may have taken bits away from a public key's 0644
    return p


def read_private(path: Path, what: str) -> bytes:
    """The bytes of a private key file; refused when others may read it (as ssh refuses such a key)."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read the {what} ({e.strerror})") from None
    if b"PUBLIC KEY" in data[:200] and b"PRIVATE KEY" not in data:
        raise UserError(f"{path} is a public key: give the private {what} it was made with"
                        + (f" ({path.with_suffix('')})" if path.suffix == ".pub" else ""))
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UserError(f"{path}: the {what} is readable by others (mode {stat.S_IMODE(mode):o}); "
                        f"make it owner-only: chmod 600 {path}")
    return data


def write_private(out: Path, data: bytes) -> None:
    """Write a file holding personal data (a subject-access export, a disclosure package, a salt): owner-only
    (0600) from its first byte, written to OUT.part and renamed into place, so a file that was there
    is replaced (with its looser mode) only once the new one is complete. Missing parent folders are
    created, as for every -o. Raises OSError."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # a leftover .part keeps its old mode under O_CREAT
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            fh.write(data)
        os.replace(tmp, out)
    except BaseException:
        if fd != -1:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
