"""Bookmobile screens: the staff's prepare / offline mode / resolve / export / confirm screen, and
the banner line the idle screen shows while the kiosk lends offline.

Every action runs in a thread worker (network, SQLite, file writes) and reports back with
``call_from_thread``; the screen shows counts and file names only, never a token or card number.
Export goes to the folder staff type (the USB stick; never a default inside the kiosk's data
folder, which must not hold card numbers); a ``.koc`` path typed in the second field is rewritten
alongside the CSV.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from appliance.errors import KioskError, KocError
from appliance.messages import bilingual
from ui.footer import KioskFooter
from ui.screens import KioskScreen

if TYPE_CHECKING:
    from ui.offline_wiring import OfflineKit

log = logging.getLogger(__name__)


def banner_text(kit: OfflineKit) -> str:
    """The idle screen's offline line: provisional labels, and how old the revocation list is."""
    from sync.offline_trust import human_age

    return bilingual("offline.banner", age=human_age(kit.status().crl_age))


def _summary(kit: OfflineKit) -> str:
    from sync.offline import State
    from sync.offline_trust import human_age

    status = kit.status()
    counts = kit.store.counts()
    trust = bilingual(
        "offline.trust",
        cas=status.cas,
        age=human_age(status.crl_age),
        limit=human_age(status.limit),
    )
    pending = bilingual(
        "offline.pending",
        pending=counts[State.PENDING],
        resolved=counts[State.RESOLVED],
        refused=counts[State.REFUSED] + counts[State.UNLINKED],
    )
    return f"{trust}\n{pending}"


class OfflineStaffScreen(KioskScreen):
    """Prepare before departure, switch offline mode, resolve and export back at the library."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.to_idle", "戻る / Back")]

    def __init__(self, kit: OfflineKit) -> None:
        super().__init__()
        self._kit = kit

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static("移動図書館 / Bookmobile", id="title")
            yield Static("", id="offline-summary")
            with Horizontal(id="offline-actions"):
                yield Button("準備 / Prepare", id="prepare")
                yield Button(self._mode_label(), id="mode")
                yield Button("照合 / Resolve", id="resolve")
                yield Button("書き出し / Export", id="export")
                yield Button("確定 / Confirm", id="confirm")
            yield Input(placeholder="書き出し先 / export folder", id="export-dir")
            yield Input(placeholder=".koc ファイル / .koc file (optional)", id="koc-path")
            yield Static("", id="offline-result")
        yield KioskFooter()

    def on_mount(self) -> None:
        self._refresh()

    def _mode_label(self) -> str:
        on = getattr(self.app, "offline_mode", False)
        return "オンラインに戻す / Go online" if on else "オフライン運用 / Go offline"

    @work(thread=True, exclusive=True, group="offline")
    def _refresh(self) -> None:
        text = _summary(self._kit)
        self.app.call_from_thread(self.query_one("#offline-summary", Static).update, text)

    def _say(self, text: str) -> None:
        self.query_one("#offline-result", Static).update(text)
        self._refresh()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id
        if button == "mode":
            app = self.app
            app.offline_mode = not getattr(app, "offline_mode", False)  # type: ignore[attr-defined]
            event.button.label = self._mode_label()
            return
        export_dir = self.query_one("#export-dir", Input).value.strip()
        koc = self.query_one("#koc-path", Input).value.strip()
        self._act(str(button), export_dir, koc)

    @work(thread=True, exclusive=True, group="offline")
    def _act(self, action: str, export_dir: str, koc: str) -> None:
        try:
            text = self._do(action, export_dir, koc)
        except KocError as exc:
            text = bilingual(exc.key) + "\n" + "\n".join(exc.problems[:8])
        except KioskError as exc:
            text = bilingual(exc.key, **{"code": "-", **exc.params})
        except OSError as exc:  # the USB stick is missing, full or read-only
            log.warning("bookmobile %s failed: %s", action, exc.strerror)
            text = f"{bilingual('error.unexpected')}\n({exc.strerror})"
        self.app.call_from_thread(self._say, text)

    def _do(self, action: str, export_dir: str, koc: str) -> str:
        kit = self._kit
        if action == "prepare":
            kit.prepare()
            return _summary(kit)
        if action == "resolve":
            report = kit.resolve()
            return bilingual(
                "offline.resolve.done", resolved=report.resolved, pending=report.pending
            )
        if action == "export":
            from sync.offline_export import export

            if not export_dir:  # never a default inside the kiosk's own data folder
                return bilingual("offline.export.folder")
            result = export(
                kit.store.mappings(),
                Path(export_dir),
                stem=f"provisional-{dt.date.today().isoformat()}",
                koc=Path(koc) if koc else None,
                policy=kit.policy(),
            )
            names = ", ".join(path.name for path in result.paths)
            return f"{names}\n{bilingual('offline.export.done')}"
        if action == "confirm":
            return bilingual("offline.confirmed", deleted=kit.store.confirm_export())
        return ""
