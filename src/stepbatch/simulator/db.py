"""The simulator's SQLite store: accounts, groups, products (current and original images), sessions, audit."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts(
    email TEXT PRIMARY KEY, nickname TEXT NOT NULL, pw_salt BLOB NOT NULL, pw_hash BLOB NOT NULL,
    credits INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS groups(
    account TEXT NOT NULL, name TEXT NOT NULL, uuid TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY(account, name));
CREATE TABLE IF NOT EXISTS products(
    id TEXT PRIMARY KEY, account TEXT NOT NULL, seq INTEGER NOT NULL, code TEXT, name TEXT NOT NULL,
    memo TEXT NOT NULL, grp TEXT, orig_grp TEXT, price INTEGER NOT NULL, cost_cny REAL NOT NULL,
    shipping INTEGER NOT NULL, collected TEXT NOT NULL, source TEXT NOT NULL,
    detail TEXT NOT NULL, thumbs TEXT NOT NULL, options TEXT NOT NULL, html TEXT NOT NULL,
    html_head TEXT NOT NULL DEFAULT '',
    orig_detail TEXT NOT NULL, orig_thumbs TEXT NOT NULL, orig_options TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS products_list ON products(account, grp, seq);
CREATE TABLE IF NOT EXISTS sessions(id TEXT PRIMARY KEY, account TEXT NOT NULL, created REAL NOT NULL,
    expires REAL);
CREATE TABLE IF NOT EXISTS audit(
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, account TEXT NOT NULL, session TEXT,
    product TEXT NOT NULL, op TEXT NOT NULL, args TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_product ON audit(product);
"""

PBKDF2_ROUNDS = 20_000


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def init_db(path: Path) -> bool:
    """Create the schema (WAL journal). Returns True when the database had no products yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        columns = {row["name"] for row in conn.execute("PRAGMA table_info(products)")}
        if "html_head" not in columns:  # a database made before HTML could be typed at the source's start
            conn.execute("ALTER TABLE products ADD COLUMN html_head TEXT NOT NULL DEFAULT ''")
        return conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 0
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def hash_password(password: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    salt = salt or os.urandom(16)
    return salt, hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, PBKDF2_ROUNDS)


def check_password(conn: sqlite3.Connection, email: str, password: str) -> bool:
    row = conn.execute("SELECT pw_salt, pw_hash FROM accounts WHERE email=?", (email,)).fetchone()
    if row is None:
        hash_password(password)  # same work either way
        return False
    return hmac.compare_digest(hash_password(password, row["pw_salt"])[1], row["pw_hash"])


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Product:
    """One product row with its image lists decoded.

    An image is `{"id": unique id, "orig": id of the seeded image it shows, "zh": has Chinese text,
    "tr": translated}`; an option is `{"name", "zh_name", "image": image | None}`.
    """

    id: str
    account: str
    seq: int
    code: str | None
    name: str
    memo: str
    group: str | None
    orig_group: str | None
    price: int
    cost_cny: float
    shipping: int
    collected: str
    source: str
    detail: list[dict[str, Any]] = field(default_factory=list)
    thumbs: list[dict[str, Any]] = field(default_factory=list)
    options: list[dict[str, Any]] = field(default_factory=list)
    html: str = ""  # HTML after the detail images (HTML 삽입, or typed at the end of the source)
    html_head: str = ""  # HTML before them (typed at the start of the source, where the caret starts)
    orig_detail: list[dict[str, Any]] = field(default_factory=list)
    orig_thumbs: list[dict[str, Any]] = field(default_factory=list)
    orig_options: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Product:
        return cls(
            id=row["id"],
            account=row["account"],
            seq=row["seq"],
            code=row["code"],
            name=row["name"],
            memo=row["memo"],
            group=row["grp"],
            orig_group=row["orig_grp"],
            price=row["price"],
            cost_cny=row["cost_cny"],
            shipping=row["shipping"],
            collected=row["collected"],
            source=row["source"],
            detail=json.loads(row["detail"]),
            thumbs=json.loads(row["thumbs"]),
            options=json.loads(row["options"]),
            html=row["html"],
            html_head=row["html_head"],
            orig_detail=json.loads(row["orig_detail"]),
            orig_thumbs=json.loads(row["orig_thumbs"]),
            orig_options=json.loads(row["orig_options"]),
        )


def insert_product(conn: sqlite3.Connection, p: Product) -> None:
    conn.execute(
        "INSERT INTO products(id, account, seq, code, name, memo, grp, orig_grp, price, cost_cny, shipping,"
        " collected, source, detail, thumbs, options, html, orig_detail, orig_thumbs, orig_options)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            p.id,
            p.account,
            p.seq,
            p.code,
            p.name,
            p.memo,
            p.group,
            p.group,
            p.price,
            p.cost_cny,
            p.shipping,
            p.collected,
            p.source,
            json.dumps(p.detail),
            json.dumps(p.thumbs),
            json.dumps(p.options),
            p.html,
            json.dumps(p.detail),
            json.dumps(p.thumbs),
            json.dumps(p.options),
        ),
    )


def get_product(conn: sqlite3.Connection, account: str, product_id: str) -> Product | None:
    row = conn.execute("SELECT * FROM products WHERE id=? AND account=?", (product_id, account)).fetchone()
    return Product.from_row(row) if row else None


def save_product(conn: sqlite3.Connection, p: Product) -> None:
    conn.execute(
        "UPDATE products SET grp=?, detail=?, thumbs=?, options=?, html=?, html_head=? WHERE id=?",
        (
            p.group,
            json.dumps(p.detail),
            json.dumps(p.thumbs),
            json.dumps(p.options),
            p.html,
            p.html_head,
            p.id,
        ),
    )


def audit(
    conn: sqlite3.Connection, account: str, session: str | None, product: str, op: str, **args: Any
) -> None:
    conn.execute(
        "INSERT INTO audit(ts, account, session, product, op, args) VALUES(?,?,?,?,?,?)",
        (now_iso(), account, session, product, op, json.dumps(args, ensure_ascii=False)),
    )


def audit_events(conn: sqlite3.Connection, product: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM audit" + (" WHERE product=?" if product else "") + " ORDER BY id"
    rows = conn.execute(sql, (product,) if product else ()).fetchall()
    return [
        {
            "id": r["id"],
            "ts": r["ts"],
            "account": r["account"],
            "session": r["session"],
            "product": r["product"],
            "op": r["op"],
            "args": json.loads(r["args"]),
        }
        for r in rows
    ]


def create_session(conn: sqlite3.Connection, account: str, expiry_min: float | None) -> str:
    token = os.urandom(18).hex()
    created = time.time()
    expires = created + expiry_min * 60 if expiry_min else None
    conn.execute(
        "INSERT INTO sessions(id, account, created, expires) VALUES(?,?,?,?)",
        (token, account, created, expires),
    )
    return token


def session_account(conn: sqlite3.Connection, token: str | None) -> str | None:
    if not token:
        return None
    row = conn.execute("SELECT account, expires FROM sessions WHERE id=?", (token,)).fetchone()
    if row is None or (row["expires"] is not None and row["expires"] < time.time()):
        return None
    return row["account"]
