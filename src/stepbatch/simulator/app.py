"""The simulator web app: Starlette serves page shells and small JSON APIs; the page's JS does the rest."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from stepbatch.errors import UserError
from stepbatch.simulator import db
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.images import ROW_THUMB_SIZE, image_src, picture_for
from stepbatch.simulator.seed import SeedAccount, seed_database, workbook_accounts
from stepbatch.workbook.groups import ALL_GROUPS, NO_GROUP

HERE = Path(__file__).parent
COOKIE = "percenty_sid"
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
    sim = _Simulator(db_path, faults)
    app = Starlette(routes=sim.routes())
    app.state.sim = sim
    return FaultMiddleware(app, faults, random.Random(seed * 7919 + 1))


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


class _Simulator:
    def __init__(self, db_path: Path, faults: Faults) -> None:
        self.db_path = db_path
        self.faults = faults
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
        body = await _json(request)
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
        page, size = _int(q.get("page"), 1), min(_int(q.get("size"), 20), 100)
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
        items = [_summary(db.Product.from_row(r)) for r in rows]
        return JSONResponse({"total": total, "page": page, "size": size, "items": items})

    async def product(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        p = db.get_product(conn, account, request.path_params["pid"])
        if p is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        return JSONResponse(_detail(p))

    # ---- mutations ------------------------------------------------------------------------------------
    async def move_one(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await _json(request)
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
        body = await _json(request)
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
        db.audit(conn, account, _sid(request), p.id, "group_move", group=group, previous=old, via=via)

    async def delete_image(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await _json(request)
        kind, image_id = body.get("list"), body.get("image")
        with db.transaction(conn):
            p = db.get_product(conn, account, request.path_params["pid"])
            if p is None:
                return JSONResponse({"error": "not_found"}, status_code=404)
            if kind == "option":
                idx = next(
                    (i for i, o in enumerate(p.options) if (o.get("image") or {}).get("id") == image_id), None
                )
                if idx is None:
                    return JSONResponse({"error": "not_found"}, status_code=409)
                image = p.options[idx]["image"]
                p.options[idx]["image"] = None
                op, args = "option_image_delete", {"option": idx + 1, "image": image["orig"]}
            else:
                images = p.detail if kind == "detail" else p.thumbs
                idx = next((i for i, im in enumerate(images) if im["id"] == image_id), None)
                if idx is None:
                    return JSONResponse({"error": "not_found"}, status_code=409)
                image = images.pop(idx)
                op = "detail_image_delete" if kind == "detail" else "thumbnail_delete"
                args = {"position": idx + 1, "image": image["orig"], "count_before": len(images) + 1}
            db.save_product(conn, p)
            db.audit(conn, account, _sid(request), p.id, op, **args)
        return JSONResponse(_detail(p))

    async def copy_image(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await _json(request)
        kind, image_id = body.get("list"), body.get("image")
        with db.transaction(conn):
            p = db.get_product(conn, account, request.path_params["pid"])
            if p is None:
                return JSONResponse({"error": "not_found"}, status_code=404)
            found = _find_image(p, kind, image_id)
            if found is None or kind not in ("detail", "option"):
                return JSONResponse({"error": "not_found"}, status_code=409)
            position, image = found
            copy = {**image, "id": f"c{random.getrandbits(48):012x}"}
            p.thumbs.append(copy)
            op = "option_image_copy" if kind == "option" else "detail_image_copy"
            db.save_product(conn, p)
            db.audit(conn, account, _sid(request), p.id, op, position=position, image=image["orig"])
        return JSONResponse(_detail(p))

    async def translate(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await _json(request)
        kind, image_id = body.get("list"), body.get("image")
        await asyncio.sleep(self.faults.translate_ms / 1000)
        with db.transaction(conn):
            p = db.get_product(conn, account, request.path_params["pid"])
            found = _find_image(p, kind, image_id) if p else None
            if p is None or found is None:
                return JSONResponse({"error": "not_found"}, status_code=409)
            position, image = found
            credits = conn.execute("SELECT credits FROM accounts WHERE email=?", (account,)).fetchone()[0]
            if credits <= 0:
                return JSONResponse({"status": "no_credits", "product": _detail(p)})
            had_text = bool(image["zh"]) and not image["tr"]
            if had_text:
                image["tr"] = True
            # every press costs a credit, whether or not the picture had Chinese text
            conn.execute("UPDATE accounts SET credits=credits-1 WHERE email=?", (account,))
            db.save_product(conn, p)
            target = {"detail": "detail", "thumbnail": "thumbnail", "option": "option"}[kind]
            db.audit(
                conn,
                account,
                _sid(request),
                p.id,
                "image_translate",
                target=target,
                position=position,
                image=image["orig"],
                had_text=had_text,
            )
        return JSONResponse({"status": "translated", "credits": credits - 1, "product": _detail(p)})

    async def insert_html(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await _json(request)
        via = "source" if body.get("via") == "source" else "embed"
        with db.transaction(conn):
            p = db.get_product(conn, account, request.path_params["pid"])
            if p is None:
                return JSONResponse({"error": "not_found"}, status_code=404)
            if via == "source":
                edit = _source_edit(p, str(body.get("old", "")), str(body.get("new", "")))
                if edit is None:
                    return JSONResponse({"error": "source_edit_not_insert"}, status_code=400)
                inserted, at = edit
            else:
                inserted, at = str(body.get("html", "")), "end"
            if inserted.strip():
                if at == "start":
                    p.html_head = _join(inserted, p.html_head)
                else:
                    p.html = _join(p.html, inserted)
                db.save_product(conn, p)
                source = "tag" if _is_single_img(inserted) else "html"
                db.audit(
                    conn,
                    account,
                    _sid(request),
                    p.id,
                    "html_insert",
                    source=source,
                    via=via,
                    at=at,
                    html=inserted.strip(),
                )
        return JSONResponse(_detail(p))


# ---- helpers ---------------------------------------------------------------------------------------------
async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _int(raw: str | None, default: int) -> int:
    try:
        return max(int(raw or default), 1)
    except ValueError:
        return default


def _sid(request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    return token[:8] if token else None  # enough to tell sessions apart, useless as a credential


def _find_image(p: db.Product, kind: str | None, image_id: object) -> tuple[int, dict[str, Any]] | None:
    if kind == "option":
        images = [o["image"] for o in p.options if o.get("image")]
    elif kind in ("detail", "thumbnail"):
        images = p.detail if kind == "detail" else p.thumbs
    else:
        return None
    for i, image in enumerate(images):
        if image["id"] == image_id:
            return i + 1, image
    return None


def _source_edit(p: db.Product, old: str, new: str) -> tuple[str, str] | None:
    """What a source-mode edit inserted and where ("start" before the content, "end" after it), or None
    when it did anything else (the simulator models insertions at either end only)."""
    if new == old:
        return "", "end"
    if new.endswith(old):
        return new[: len(new) - len(old)], "start"
    if new.startswith(old):
        return new[len(old) :], "end"
    return None


def _join(first: str, second: str) -> str:
    return "\n".join(part.strip() for part in (first, second) if part.strip())


def _is_single_img(html: str) -> bool:
    text = html.strip().lower()
    return text.startswith("<img") and text.endswith(">") and text.count("<") == 1


def _images(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": im["id"], "src": image_src(im)} for im in images]


def _summary(p: db.Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "memo": p.memo,
        "group": p.group,
        "price": p.price,
        "cost_cny": p.cost_cny,
        "shipping": p.shipping,
        "collected": p.collected,
        "source": p.source,
        "thumb": image_src(p.thumbs[0], ROW_THUMB_SIZE) if p.thumbs else None,
    }


def _detail(p: db.Product) -> dict[str, Any]:
    return {
        **_summary(p),
        "detail": _images(p.detail),
        "thumbs": _images(p.thumbs),
        "options": [
            {
                "name": o["name"],
                "zh_name": o["zh_name"],
                "image": _images([o["image"]])[0] if o.get("image") else None,
            }
            for o in p.options
        ],
        "html": p.html,
        "html_head": p.html_head,
    }
