"""The product edits of the simulator's API: delete, copy, translate an image, insert HTML."""

from __future__ import annotations

import asyncio
import random
import sqlite3

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from stepbatch.simulator import db
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.payloads import (
    detail,
    find_image,
    is_single_img,
    join_html,
    read_json,
    short_sid,
    source_edit,
)
from stepbatch.simulator.timing import ServerTiming


def not_found(status: int = 404) -> JSONResponse:
    """No such product (404), or no such picture on it (409: the page showed one that is gone)."""
    return JSONResponse({"error": "not_found"}, status_code=status)


class ProductEdits:
    """Handlers mixed into the simulator app (they need only its `faults` and `timing`)."""

    faults: Faults
    timing: ServerTiming

    async def delete_image(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await read_json(request)
        kind, image_id = body.get("list"), body.get("image")
        with db.transaction(conn):
            p = db.get_product(conn, account, request.path_params["pid"])
            if p is None:
                return not_found()
            if kind == "option":
                idx = next(
                    (i for i, o in enumerate(p.options) if (o.get("image") or {}).get("id") == image_id), None
                )
                if idx is None:
                    return not_found(409)
                image = p.options[idx]["image"]
                p.options[idx]["image"] = None
                op, args = "option_image_delete", {"option": idx + 1, "image": image["orig"]}
            else:
                images = p.detail if kind == "detail" else p.thumbs
                idx = next((i for i, im in enumerate(images) if im["id"] == image_id), None)
                if idx is None:
                    return not_found(409)
                image = images.pop(idx)
                op = "detail_image_delete" if kind == "detail" else "thumbnail_delete"
                args = {"position": idx + 1, "image": image["orig"], "count_before": len(images) + 1}
            db.save_product(conn, p)
            db.audit(conn, account, short_sid(request), p.id, op, **args)
        return JSONResponse(detail(p))

    async def copy_image(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await read_json(request)
        kind, image_id = body.get("list"), body.get("image")
        with db.transaction(conn):
            p = db.get_product(conn, account, request.path_params["pid"])
            if p is None:
                return not_found()
            found = find_image(p, kind, image_id)
            if found is None or kind not in ("detail", "option"):
                return not_found(409)
            position, image = found
            copy = {**image, "id": f"c{random.getrandbits(48):012x}"}
            p.thumbs.append(copy)
            op = "option_image_copy" if kind == "option" else "detail_image_copy"
            db.save_product(conn, p)
            db.audit(conn, account, short_sid(request), p.id, op, position=position, image=image["orig"])
        return JSONResponse(detail(p))

    async def translate(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await read_json(request)
        kind, image_id = body.get("list"), body.get("image")
        await asyncio.sleep(self.faults.translate_ms / 1000)
        self.timing.translate_s += self.faults.translate_ms / 1000
        with db.transaction(conn):
            p = db.get_product(conn, account, request.path_params["pid"])
            found = find_image(p, kind, image_id) if p else None
            if p is None or found is None:
                return not_found(409)
            position, image = found
            credits = conn.execute("SELECT credits FROM accounts WHERE email=?", (account,)).fetchone()[0]
            if credits <= 0:
                return JSONResponse({"status": "no_credits", "product": detail(p)})
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
                short_sid(request),
                p.id,
                "image_translate",
                target=target,
                position=position,
                image=image["orig"],
                had_text=had_text,
            )
        return JSONResponse({"status": "translated", "credits": credits - 1, "product": detail(p)})

    async def insert_html(self, request: Request, conn: sqlite3.Connection, account: str) -> Response:
        body = await read_json(request)
        via = "source" if body.get("via") == "source" else "embed"
        with db.transaction(conn):
            p = db.get_product(conn, account, request.path_params["pid"])
            if p is None:
                return not_found()
            if via == "source":
                edit = source_edit(p, str(body.get("old", "")), str(body.get("new", "")))
                if edit is None:
                    return JSONResponse({"error": "source_edit_not_insert"}, status_code=400)
                inserted, at = edit
            else:
                inserted, at = str(body.get("html", "")), "end"
            if inserted.strip():
                if at == "start":
                    p.html_head = join_html(inserted, p.html_head)
                else:
                    p.html = join_html(p.html, inserted)
                db.save_product(conn, p)
                source = "tag" if is_single_img(inserted) else "html"
                db.audit(
                    conn,
                    account,
                    short_sid(request),
                    p.id,
                    "html_insert",
                    source=source,
                    via=via,
                    at=at,
                    html=inserted.strip(),
                )
        return JSONResponse(detail(p))
