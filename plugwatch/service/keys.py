"""The service's signing key (session cookies, CSRF tokens, flash messages, reviewers' account
pseudonyms) lives in a file beside the other keys, never in the database: a copy of the database
must not let anyone sign a cookie.

Where: `$PLUGWATCH_SECRET` itself when set (several servers sharing one database must share it);
else the file `--session-key-file` / `$PLUGWATCH_SESSION_KEY_FILE` names; else `session.key` in the
folder of the pseudonym key (`$PLUGWATCH_PSEUDONYM_KEY_FILE`, see plugwatch.privacy), the folder
that already holds this installation's keys; else in the key folder (`$PLUGWATCH_KEY_DIR`, else
`~/.config/plugwatch`, see plugwatch.keyfiles). A missing file is created once, readable by its owner only
(mode 0600, folder 0700), with 32 random bytes as 64 hex characters; an existing file is never
overwritten.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from plugwatch.errors import UserError
from plugwatch.keyfiles import key_dir
from plugwatch.privacy import KEY_ENV as PSEUDONYM_KEY_ENV
from plugwatch.privacy import MIN_KEY_BYTES

SECRET_ENV = "PLUGWATCH_SECRET"
KEY_FILE_ENV = "PLUGWATCH_SESSION_KEY_FILE"
KEY_FILE_NAME = "session.key"


def session_key_path(explicit: str | os.PathLike | None = None) -> Path:
    """Where the session key file is (see the module docstring for the order)."""
    if explicit or os.environ.get(KEY_FILE_ENV):
        return Path(explicit or os.environ[KEY_FILE_ENV]).expanduser()
    if os.environ.get(PSEUDONYM_KEY_ENV):
        return Path(os.environ[PSEUDONYM_KEY_ENV]).expanduser().parent / KEY_FILE_NAME
    return key_dir() / KEY_FILE_NAME


def load_session_key(explicit: str | os.PathLike | None = None) -> bytes:
    """The signing key: $PLUGWATCH_SECRET, else the key file (made on first use)."""
    env = os.environ.get(SECRET_ENV)
    if env:
        return env.encode()
    path = session_key_path(explicit)
    if not path.exists():
        _create(path)
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise UserError(f"{path}: cannot read the session key ({getattr(e, 'strerror', None) or e}); "
                        f"it holds 64 hex characters (delete it to make a new one: everyone signs in again)") from None
    if len(key) < MIN_KEY_BYTES:
        raise UserError(f"{path}: the session key is {len(key)} bytes; it needs at least {MIN_KEY_BYTES}")
    return key


def _create(path: Path) -> None:
    """Write a new key to `path` without ever replacing one: written to a private temporary file,
    then linked into place (which fails if another process made the key first; then that key is used)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    except OSError as e:
        raise UserError(f"cannot create the session key {path}: {e.strerror} (set {KEY_FILE_ENV} to a "
                        f"writable place, or {SECRET_ENV})") from None
