"""The web status page as a Starlette app: the page, `/api/status` (polled by the page), run files, the
live report, and in cluster mode the cancel / re-queue actions (token required, always)."""

from __future__ import annotations

import html
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Protocol
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from stepbatch.errors import UserError
from stepbatch.web import i18n
from stepbatch.web.cluster import RUN_FILES_URL
from stepbatch.web.security import safe_run_file, scrub, token_matches

TOKEN_COOKIE = "sb_token"
CACHE_S = 0.5  # several open pages share one read of the state
STATIC = {"app.js": "text/javascript", "style.css": "text/css"}


class Source(Protocol):
    """Where the rows come from: a state folder (`local.LocalSource`) or the cluster's database."""

    mode: str

    def describe(self) -> str: ...
    def rows(self) -> list[dict[str, Any]]: ...
    def workers(self) -> list[dict[str, Any]]: ...


@dataclass
class WebSettings:
    token: str | None = None
    read_needs_token: bool = False  # bound to a non-loopback address: the page itself needs the token
    secrets: list[str] = field(default_factory=list)  # never served (the token is added)
    poll_ms: int = 2000


class StatusCache:
    def __init__(self, source: Source) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._at = 0.0
        self._value: dict[str, Any] | None = None

    def get(self) -> dict[str, Any]:
        with self._lock:
            if self._value is None or time.monotonic() - self._at >= CACHE_S:
                self._value = {
                    "mode": self.source.mode,
                    "source": self.source.describe(),
                    "now": datetime.now(UTC).isoformat(timespec="seconds"),
                    "accounts": self.source.rows(),
                    "workers": self.source.workers(),
                }
                self._at = time.monotonic()
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._value = None


def create_app(source: Source, settings: WebSettings | None = None) -> Starlette:
    settings = settings or WebSettings()
    secrets = [s for s in (settings.token, *settings.secrets) if s]
    cache = StatusCache(source)

    def json_response(value: Any, status: int = 200) -> Response:
        body = scrub(json.dumps(value, ensure_ascii=False, default=str), secrets)
        return Response(body, status, media_type="application/json", headers={"Cache-Control": "no-store"})

    def reader_ok(request: Request) -> bool:
        if not settings.read_needs_token:
            return True
        given = _bearer(request) or request.cookies.get(TOKEN_COOKIE) or request.query_params.get("token")
        return token_matches(given, settings.token)

    def denied() -> Response:
        return PlainTextResponse("token required (open the page as /?token=…)", 401)

    def page(request: Request) -> Response:
        if settings.read_needs_token and token_matches(request.query_params.get("token"), settings.token):
            response: Response = RedirectResponse("/", 303)  # the token leaves the address bar
            response.set_cookie(TOKEN_COOKIE, settings.token or "", httponly=True, samesite="strict")
            return response
        if not reader_ok(request):
            return denied()
        query_lang = request.query_params.get("lang")
        lang = i18n.pick_lang(
            query_lang, request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
        )
        body = scrub(
            render_page(lang, source.mode, actions=bool(settings.token), poll_ms=settings.poll_ms), secrets
        )
        response = Response(
            body, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"}
        )
        if query_lang in i18n.LANGS:
            response.set_cookie(i18n.COOKIE, query_lang, max_age=365 * 86400, samesite="lax")
        return response

    def status(request: Request) -> Response:
        if not reader_ok(request):
            return denied()
        return json_response({**cache.get(), "actions": bool(settings.token)})

    def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return PlainTextResponse("not found", 404)
        text = resources.files("stepbatch.web").joinpath("static", name).read_text(encoding="utf-8")
        return Response(text, media_type=STATIC[name])

    def run_file(request: Request) -> Response:
        if not reader_ok(request):
            return denied()
        state_dir = getattr(source, "state_dir", None)
        target = safe_run_file(state_dir, request.path_params["path"]) if state_dir is not None else None
        if target is None:
            return PlainTextResponse("not found", 404)
        return FileResponse(target, headers={"Cache-Control": "no-store"})

    def stored_file(request: Request) -> Response:
        if not reader_ok(request):
            return denied()
        found = (
            source.stored_file(request.path_params["request_id"], request.path_params["name"])
            if hasattr(source, "stored_file")
            else None
        )
        if found is None:
            return PlainTextResponse("not found", 404)
        content, media_type = found
        if media_type.startswith("text/"):
            content = scrub(content.decode("utf-8", "replace"), secrets).encode("utf-8")
        return Response(content, media_type=media_type, headers={"Cache-Control": "no-store"})

    def live_report(request: Request) -> Response:
        if not reader_ok(request):
            return denied()
        run_id = request.path_params["run_id"]
        run_dir = source.run_dir(run_id) if hasattr(source, "run_dir") else None
        if run_dir is None:
            return PlainTextResponse("not found", 404)
        from stepbatch.report.events import load_run
        from stepbatch.report.html import render_html

        base = f"/files/runs/{quote(run_id)}"
        try:
            text = render_html(load_run(run_dir), link_base=base)
        except UserError:
            return PlainTextResponse("not found", 404)
        return Response(scrub(text, secrets), media_type="text/html; charset=utf-8")

    async def action(request: Request) -> Response:
        response = await action_endpoint(request, source, settings)
        cache.invalidate()  # the next poll shows what the action changed
        return response

    routes = [
        Route("/", page),
        Route("/api/status", status),
        Route("/static/{name}", static),
        Route("/files/{path:path}", run_file),
        Route("/report/{run_id}", live_report),
        Route(RUN_FILES_URL + "/{request_id:int}/{name:path}", stored_file),
        Route("/api/{what}/{account}/{step}", action, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _form_token(request: Request) -> str | None:
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("token")
        return value if isinstance(value, str) else None
    return None


async def action_endpoint(request: Request, source: Source, settings: WebSettings) -> Response:
    from starlette.concurrency import run_in_threadpool

    what = request.path_params["what"]
    if what not in ("cancel", "requeue"):
        return PlainTextResponse("not found", 404)
    if not settings.token:
        return PlainTextResponse("actions are disabled: start stepbatch web with --token", 403)
    given = _bearer(request) or await _form_token(request)
    if not given:
        return PlainTextResponse("token required", 401)
    if not token_matches(given, settings.token):
        return PlainTextResponse("wrong token", 403)
    method = getattr(source, what, None)
    if method is None:
        return PlainTextResponse(f"{what} is only available in cluster mode (--db)", 404)
    account, step = request.path_params["account"], request.path_params["step"]
    try:
        message = await run_in_threadpool(method, account, step)
    except UserError as exc:
        return PlainTextResponse(scrub(str(exc), [settings.token, *settings.secrets]), 409)
    return PlainTextResponse(scrub(str(message), [settings.token, *settings.secrets]), 200)


def render_page(lang: str, mode: str, *, actions: bool, poll_ms: int) -> str:
    labels = i18n.LABELS[lang]
    template = resources.files("stepbatch.web").joinpath("static", "index.html").read_text(encoding="utf-8")
    config = {"lang": lang, "mode": mode, "actions": actions, "poll_ms": poll_ms, "labels": labels}
    as_json = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
    text = template.replace("{{config}}", as_json)
    text = text.replace("{{lang}}", lang).replace("{{other_lang}}", "en" if lang == "ko" else "ko")
    for key, value in labels.items():
        text = text.replace("{{t:" + key + "}}", html.escape(value))
    return text
