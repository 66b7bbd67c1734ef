"""Fault injection settings of the simulator: each is a CLI flag and a `STEPBATCH_SIM_*` variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from stepbatch.errors import UserError

ENV_PREFIX = "STEPBATCH_SIM_"


# Elements `--rename-element` can break (for testing `stepbatch probe`): the name, and what it renames.
RENAMEABLE = ("bulk-edit", "translate", "thumb", "source", "group-assign")


@dataclass(frozen=True)
class Faults:
    """Everything that can go wrong on purpose, and the site behaviours the real evidence leaves open.

    The defaults are a well-behaved site. The variants (`editor_opens_first`, `keep_tabs_mounted`,
    `thumb_click_moves`, `tab_wraps`, `translate_loading`) are each a plausible reading of what the real
    site's captures leave open; the adapter must work on all of them.
    """

    latency_ms: float = 0.0  # mean added latency per request; jitter is ±50% (uniform)
    error_rate: float = 0.0  # share of /api/* calls answered with HTTP 503 (before any change)
    session_expiry_min: float | None = None  # a session dies this long after login
    login_popup: bool = False  # notice modal (`다시 보지 않기` / `닫기`) right after login
    popup_rate: float = 0.0  # chance of a marketing modal after each page action
    channel_talk: bool = False  # the Channel Talk widget over the bottom-right corner
    linger_modal_ms: int = 0  # a closed modal's `ant-modal-wrap` stays this long, catching clicks
    translation_credits: int | None = None  # credits per account (None: keep the db's, 10,000 when new)
    leak_mb_per_action: float = 0.0  # the page retains this much JS heap per action
    translate_ms: int = 300  # how long `원클릭 이미지 번역` stays busy
    editor_opens_first: bool = False  # variant: the image editor opens on image 1, not on the one clicked
    keep_tabs_mounted: bool = False  # variant: the drawer keeps the other tabs' content, hidden
    thumb_click_moves: bool = True  # variant: a click on an editor strip thumb shows that image
    tab_wraps: bool = True  # variant: TAB on the editor's last image goes to the first (else it stays)
    translate_loading: bool = True  # variant: a translate press shows `ant-btn-loading` while busy
    rename_element: str = ""  # breaks one element (see RENAMEABLE), for testing `stepbatch probe`

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Faults:
        """Read `STEPBATCH_SIM_<FIELD>` variables; keyword overrides win. Bad values → UserError."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw.strip() != "":
                values[f.name] = _parse(f.name, raw.strip(), ENV_PREFIX + f.name.upper())
        values.update({k: v for k, v in overrides.items() if v is not None})
        faults = cls(**values)  # type: ignore[arg-type]
        faults.validate()
        return faults

    def validate(self) -> None:
        if self.latency_ms < 0:
            raise UserError(f"--latency-ms must be >= 0, got {self.latency_ms}")
        for name in ("error_rate", "popup_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise UserError(f"--{name.replace('_', '-')} must be between 0 and 1, got {value}")
        if self.session_expiry_min is not None and self.session_expiry_min <= 0:
            raise UserError(f"--session-expiry-min must be > 0, got {self.session_expiry_min}")
        if self.translation_credits is not None and self.translation_credits < 0:
            raise UserError(f"--translation-credits must be >= 0, got {self.translation_credits}")
        if self.rename_element and self.rename_element not in RENAMEABLE:
            raise UserError(
                f"--rename-element must be one of {', '.join(RENAMEABLE)}, got {self.rename_element!r}"
            )
        if self.linger_modal_ms < 0 or self.leak_mb_per_action < 0 or self.translate_ms < 0:
            raise UserError("--linger-modal-ms, --leak-mb-per-action and --translate-ms must be >= 0")

    def to_env(self) -> dict[str, str]:
        """The variables that reproduce these settings in a child process."""
        out = {}
        for name, value in asdict(self).items():
            if value is None or value == "":
                continue
            out[ENV_PREFIX + name.upper()] = (
                ("1" if value else "0") if isinstance(value, bool) else str(value)
            )
        return out

    def client_config(self) -> dict[str, object]:
        """What the page's JavaScript needs to know."""
        return {
            "loginPopup": self.login_popup,
            "popupRate": self.popup_rate,
            "channelTalk": self.channel_talk,
            "lingerModalMs": self.linger_modal_ms,
            "leakMbPerAction": self.leak_mb_per_action,
            "editorOpensFirst": self.editor_opens_first,
            "keepTabsMounted": self.keep_tabs_mounted,
            "thumbClickMoves": self.thumb_click_moves,
            "tabWraps": self.tab_wraps,
            "translateLoading": self.translate_loading,
            "renameElement": self.rename_element,
        }


_BOOL = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def _parse(name: str, raw: str, label: str) -> object:
    kind = {f.name: f.type for f in fields(Faults)}[name]
    try:
        if kind == "bool":
            return _BOOL[raw.lower()]
        if kind == "str":
            return raw
        if kind.startswith("int"):
            return int(raw)
        return float(raw)
    except (KeyError, ValueError):
        raise UserError(f"{label}: invalid value {raw!r}") from None
