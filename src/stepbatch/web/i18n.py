"""The page's words in English and Korean: `?lang=` (remembered in a cookie) wins over Accept-Language."""

from __future__ import annotations

LANGS = ("en", "ko")
COOKIE = "sb_lang"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "stepbatch status",
        "accounts": "Accounts",
        "workers": "Workers",
        "account": "account",
        "step": "step",
        "status": "status",
        "worker": "worker / machine",
        "current": "now (code · product)",
        "products": "products",
        "codes": "codes",
        "eta": "ETA",
        "memory": "browser MB",
        "retries": "retries / re-logins",
        "heartbeat": "heartbeat",
        "last_event": "last event",
        "last_error": "last error",
        "links": "report",
        "report": "report",
        "live_report": "live report",
        "screenshot": "screenshot",
        "actions": "actions",
        "cancel": "cancel",
        "requeue": "re-queue",
        "token": "token",
        "token_hint": "token for cancel / re-queue",
        "actions_off": "actions are off (start stepbatch web with --token)",
        "updated": "updated",
        "ago": "ago",
        "none": "no runs yet",
        "no_workers": "no workers",
        "host": "host",
        "pid": "pid",
        "concurrency": "slots",
        "jobs": "jobs",
        "browsers": "browsers",
        "alive": "alive",
        "yes": "yes",
        "no": "no",
        "offline": "connection lost, retrying",
        "confirm_cancel": "Cancel this account's run?",
        "confirm_requeue": "Put this account's job back in the queue?",
        "st_queued": "queued",
        "st_running": "running",
        "st_stalled": "stalled",
        "st_done": "done",
        "st_partial": "partial",
        "st_failed": "failed",
        "st_stopped": "stopped",
    },
    "ko": {
        "title": "stepbatch 상태",
        "accounts": "계정",
        "workers": "워커",
        "account": "계정",
        "step": "단계",
        "status": "상태",
        "worker": "워커 / PC",
        "current": "지금 (코드 · 상품)",
        "products": "상품",
        "codes": "코드",
        "eta": "남은 시간",
        "memory": "브라우저 MB",
        "retries": "재시도 / 재로그인",
        "heartbeat": "마지막 신호",
        "last_event": "마지막 기록",
        "last_error": "마지막 오류",
        "links": "보고서",
        "report": "보고서",
        "live_report": "실시간 보고서",
        "screenshot": "캡처",
        "actions": "작업",
        "cancel": "취소",
        "requeue": "다시 대기열에",
        "token": "토큰",
        "token_hint": "취소·재등록용 토큰",
        "actions_off": "작업 버튼이 꺼져 있습니다 (--token으로 stepbatch web을 시작하세요)",
        "updated": "갱신",
        "ago": "전",
        "none": "아직 실행 기록이 없습니다",
        "no_workers": "워커 없음",
        "host": "호스트",
        "pid": "PID",
        "concurrency": "동시 실행",
        "jobs": "작업",
        "browsers": "브라우저",
        "alive": "살아 있음",
        "yes": "예",
        "no": "아니요",
        "offline": "연결이 끊겼습니다. 다시 시도하는 중",
        "confirm_cancel": "이 계정의 실행을 취소할까요?",
        "confirm_requeue": "이 계정의 작업을 다시 대기열에 넣을까요?",
        "st_queued": "대기",
        "st_running": "실행 중",
        "st_stalled": "멈춤",
        "st_done": "완료",
        "st_partial": "일부 완료",
        "st_failed": "실패",
        "st_stopped": "중단",
    },
}


def pick_lang(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """`query` (the toggle), then `cookie` (the toggle remembered), then the browser's preference."""
    for choice in (query, cookie):
        if choice in LANGS:
            return choice
    return _from_accept(accept_language or "")


def _from_accept(header: str) -> str:
    best, best_q = "en", -1.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGS and q > best_q:
            best, best_q = lang, q
    return best
