"""The people who may sign in to the web desk when it serves more than this machine.

    add(conn, name, password)        create or reset a user (`gongwen user add NAME`)
    verify(conn, name, password)     True for the right password, in the same time either way
    any_users(conn)                  whether anybody can sign in at all
    check_name(name) / check_password(password)   ValueError with a message for people

Passwords are kept as scrypt hashes (hashlib, no extra package): `scrypt$N$r$p$salt$hash`,
salt and hash in base64. N=2**15, r=8, p=1 costs about 32 MiB and a tenth of a second a
check: cheap for a clerk signing in, dear for someone guessing against a stolen database.
The parameters travel with each hash, so raising them later leaves old hashes readable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
from datetime import datetime, timezone

from pipeline import store
from pipeline.store import schema
MIGRATION = next(m for m in schema.MIGRATIONS if m.name == "desk_0002_users")

SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 15, 8, 1
MIN_PASSWORD = 10
_NAME = re.compile(r"^[\w.\-@\u4e00-\u9fff]{1,64}$")
# verify() hashes this for a name nobody has, so an unknown name takes as long as a wrong password
_DUMMY = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError("用户名须为 1–64 个字母、数字、汉字或 . - _ @")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"密码至少 {MIN_PASSWORD} 个字符")
    return password


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 << 20, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def password_matches(stored: str, password: str) -> bool:
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        return False
    actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(actual, base64.b64decode(digest))


def add(conn: sqlite3.Connection, name: str, password: str) -> None:
    """Create the user, or give an existing one this new password."""
    check_name(name)
    check_password(password)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with store.transaction(conn):
        conn.execute(
            """INSERT INTO users (name, password, created_at, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (name) DO UPDATE SET password = excluded.password, updated_at = excluded.updated_at""",
            (name, hash_password(password), stamp, stamp),
        )


def verify(conn: sqlite3.Connection, name: str, password: str) -> bool:
    row = conn.execute("SELECT password FROM users WHERE name = ?", (name,)).fetchone()
    matches = password_matches(row[0] if row else _DUMMY, password)
    return row is not None and matches


def any_users(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
