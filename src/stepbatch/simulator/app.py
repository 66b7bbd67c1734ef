"""The simulator web app: Starlette serves page shells and small JSON APIs; the page's JS does the rest."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from stepbatch.errors import UserError
from stepbatch.simulator import db
from stepbatch.simulator.edits import ProductEdits
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.images import picture_for
from stepbatch.simulator.payloads import COOKIE, detail, positive_int, read_json, short_sid, summary
from stepbatch.simulator.seed import SeedAccount, seed_database, workbook_accounts
from stepbatch.simulator.timing import ServerTiming, TimingMiddleware
from stepbatch.workbook.groups import ALL_GROUPS, NO_GROUP

HERE = Path(__file__).parent
NO_FAULT_PATHS = ("/api/login", "/api/audit", "/api/health")


def prepare_db(
    db_path: Path,
    workbook: Path | None = None,
    seed: int = 1,
    faults: Faults | None = None,
    accounts: list[SeedAccount] | None = None,
    counts: dict[str, int] | None = None,
) -> None:
    """Create and seed a new database; an existing one keeps its data (credits may be reset).

    Bad input leaves nothing behind: a new database is only created once the workbook has been read.
    """
    faults = faults or Faults()
    db_path = Path(db_path)
    if db_path.exists():
        try:
            if not db.init_db(db_path):
                if faults.translation_credits is not None:
                    _set_credits(db_path, faults.translation_credits)
                return
        except sqlite3.DatabaseError as exc:
            raise UserError(f"--db {db_path}: not a simulator database ({exc})") from None
    if accounts is None:
        if workbook is None:
            raise UserError(f"--workbook is required to create the new simulator database {db_path}")
        accounts = workbook_accounts(workbook)
    try:
        db.init_db(db_path)
        seed_database(db_path, accounts, seed=seed, credits=faults.translation_credits, counts=counts)
    except BaseException:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        raise


def _set_credits(db_path: Path, credits: int) -> None:
    conn = db.connect(db_path)
    try:
        conn.execute("UPDATE accounts SET credits=?", (credits,))
    finally:
        conn.close()


def create_app(
    db_path: Path,
    workbook: Path | None = None,
    seed: int = 1,
    faults: Faults | None = None,
    accounts: list[SeedAccount] | None = None,
    counts: dict[str, int] | None = None,
) -> ASGIApp:
    """The ASGI app over `db_path` (created and seeded from `workbook` when new)."""
    faults = faults or Faults()
    db_path = Path(db_path)
    prepare_db(db_path, workbook, seed, faults, accounts, counts)
    timing = ServerTiming()
    sim = _Simulator(db_path, faults, timing)
    app = Starlette(routes=sim.routes())
    app.state.sim = sim
    app.state.timing = timing
    return TimingMiddleware(FaultMiddleware(app, faults, random.Random(seed * 7919 + 1)), timing)


class FaultMiddleware:
    """Added latency on every request and HTTP 503 on a share of API calls (before they change anything)."""

    def __init__(self, app: Starlette, faults: Faults, rng: random.Random) -> None:
        self.app, self.faults, self.rng = app, faults, rng
        self.state = app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        f = self.faults
        if f.latency_ms > 0:
            await asyncio.sleep(f.latency_ms * self.rng.uniform(0.5, 1.5) / 1000)
        path: str = scope["path"]
        if (
            f.error_rate > 0
            and path.startswith("/api/")
            and not path.startswith(NO_FAULT_PATHS)
            and self.rng.random() < f.error_rate
        ):
            await JSONResponse({"error": "server_error"}, status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)


Handler = Callable[[Request, sqlite3.Connection, str], Awaitable[Response]]


class _Simulator(ProductEdits):
    def __init__(self, db_path: Path, faults: Faults, timing: ServerTiming | None = None) -> None:
        self.db_path = db_path
        self.faults = faults
        self.timing = timing or ServerTiming()
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.build = f"{random.getrandbits(32):08x}"  # styled-component classes change per "build"

    def routes(self) -> list[Route | Mount]:
        api = self._api
        return [
            Route("/", self.home),
            Route("/signin", self.signin),
            Route("/logout", self.logout),
            Route("/api/health", self.health),
            Route("/api/login", self.login, methods=["POST"]),
            Route("/api/me", api(self.me)),
            Route("/api/groups", api(self.groups)),
            Route("/api/products", api(self.products)),
            Route("/api/products/group", api(self.move_many), methods=["POST"]),
            Route("/api/products/{pid}", api(self.product)),
            Route("/api/products/{pid}/group", api(self.move_one), methods=["POST"]),
            Route("/api/products/{pid}/images/delete", api(self.delete_image), methods=["POST"]),
            Route("/api/products/{pid}/images/copy", api(self.copy_image), methods=["POST"]),
            Route("/api/products/{pid}/translate", api(self.translate), methods=["POST"]),
            Route("/api/products/{pid}/html", api(self.insert_html), methods=["POST"]),
            Route("/api/audit", self.audit),
            Route("/img/{key}.png", self.image),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ]

    # ---- plumbing -------------------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        return db.connect(self.db_path)

    def _api(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            conn = self._conn()
            try:
                account = db.session_account(conn, request.cookies.get(COOKIE))
                if account is None:
                    return JSONResponse({"error": "session_expired"}, status_code=401)
                return await handler(request, conn, account)
            finally:
                conn.close()

        return endpoint

    # ---- pages ----------------------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        conn = self._conn()
        try:
            account = db.session_account(conn, request.cookies.get(COOKIE))
        finally:
            conn.close()
        if account is None:
            return RedirectResponse("/signin", status_code=302)
        config = {**self.faults.client_config(), "account": account, "build": self.build}
        return self.templates.TemplateResponse(
            request, "app.html", {"config": json.dumps(config, ensure_ascii=False)}
        )

    async def signin(self, request: Request) -> Response:
        return self.templates.TemplateResponse(request, "signin.html", {})

    async def logout(self, request: Request) -> Response:
        conn = self._conn()
        try:
            conn.execute("DELETE FROM sessions WHERE id=?", (request.cookies.get(COOKIE, ""),))
        finally:
            conn.close()
        response = RedirectResponse("/signin", status_code=302)
        response.delete_cookie(COOKIE)
        return response

    async def health(self, request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def image(self, request: Request) -> Response:
        width = request.query_params.get("w")
        size = int(width) if width and width.isdigit() else None
        if width is not None and size is None:
            return Response(status_code=404)
        picture = await asyncio.to_thread(picture_for, request.path_params["key"], size)
        if picture is None:
            return Response(status_code=404)
        return Response(picture, media_type="image/png", headers={"Cache-Control": "max-age=3600"})

    async def login(self, request: Request) -> Response:
        body = await read_json(request)
        email, password = str(body.get("email", "")).strip(), str(body.get("password", ""))
        conn = self._conn()
        try:
            if not db.check_password(conn, email, password):
                return JSONResponse({"error": "bad_credentials"}, status_code=401)
            token = db.create_session(conn, email, self.faults.session_expiry_min)
        finally:
            conn.close()
        response = JSONResponse({"ok": True})
        response.set_cookie(COOKIE, token, httponly=True, samesite="lax")
        return response

    async def audit(self, request: Request) -> Response:
        conn = self._conn()
        try:
            return JSONResponse(db.audit_events(conn, request.query_params.get("product")))
        finally:
            conn.close()

    # ---- reads ----------------------------------------------------------------------------------------
    async def me(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        row = conn.execute(
            "SELECT email, nickname, credits FROM accounts WHERE email=?", (account,)
        ).fetchone()
        return JSONResponse(dict(row))

    async def groups(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        rows = conn.execute("SELECT name, uuid FROM groups WHERE account=? ORDER BY position", (account,))
        return JSONResponse([dict(r) for r in rows])

    async def products(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        q = request.query_params
        group, search = q.get("group", ALL_GROUPS), q.get("q", "").strip()
        page, size = positive_int(q.get("page"), 1), min(positive_int(q.get("size"), 20), 100)
        where, args = ["account=?"], [account]
        if group == NO_GROUP:
            where.append("grp IS NULL")
        elif group != ALL_GROUPS:
            where.append("grp=?")
            args.append(group)
        if search:
            where.append("instr(name, ?) > 0")
            args.append(search)
        if q.get("status") not in (None, "", "전체", "미업로드"):
            where.append("0")  # nothing is uploaded in the simulator
        sql_where = " AND ".join(where)
        order = "ASC" if q.get("order") == "asc" else "DESC"
        total = conn.execute(f"SELECT COUNT(*) FROM products WHERE {sql_where}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT * FROM products WHERE {sql_where} ORDER BY seq {order} LIMIT ? OFFSET ?",
            [*args, size, (page - 1) * size],
        ).fetchall()
        items = [summary(db.Product.from_row(r)) for r in rows]
        return JSONResponse({"total": total, "page": page, "size": size, "items": items})

    async def product(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        p = db.get_product(conn, account, request.path_params["pid"])
        if p is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return JSONResponse(detail(p))

    # ---- mutations ------------------------------------------------------------------------------------
    async def move_one(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await read_json(request)
        name = str(body.get("group", ""))
        if (
            name != NO_GROUP
            and conn.execute("SELECT 1 FROM groups WHERE account=? AND name=?", (account, name)).fetchone()
            is None
        ):
            return JSONResponse({"error": "unknown_group"}, status_code=400)
        with db.transaction(conn):
            p = db.get_product(conn, account, request.path_params["pid"])
            if p is None:
                return JSONResponse({"error": "not_found"}, status_code=404)
            self._move(conn, account, request, p, None if name == NO_GROUP else name, "row")
        return JSONResponse({"ok": True})

    async def move_many(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await read_json(request)
        row = conn.execute(
            "SELECT name FROM groups WHERE account=? AND uuid=?", (account, str(body.get("group", "")))
        ).fetchone()
        if row is None:
            return JSONResponse({"error": "unknown_group"}, status_code=400)
        moved = 0
        with db.transaction(conn):
            for pid in body.get("ids", []):
                p = db.get_product(conn, account, str(pid))
                if p is not None:
                    self._move(conn, account, request, p, row["name"], "modal")
                    moved += 1
        return JSONResponse({"ok": True, "moved": moved})

    def _move(
        self,
        conn: sqlite3.Connection,
        account: str,
        request: Request,
        p: db.Product,
        group: str | None,
        via: str,
    ) -> None:
        old, p.group = p.group, group
        db.save_product(conn, p)
        db.audit(conn, account, short_sid(request), p.id, "group_move", group=group, previous=old, via=via)
