"""The key-hint line at the bottom of every screen: Textual's Footer, drawn the same, built cheaper.

Textual's Footer cost the kiosk's first frame about a third of its start-up (bench/ui.py):

- it binds each key's ``compact`` to its own with ``data_bind``; a key starts compact and is then
  told it is not, so every key was restyled twice on mount, each time with the whole stylesheet;
- it recomposes (all keys thrown away and mounted again) whenever the screen says its bindings
  may have changed, which happens a few times while a screen mounts and focuses its first
  button, although the keys to show are the same each time;
- each key is a widget of its own, mounted, styled, laid out and rendered one by one.

The kiosk never switches the footer to compact. KioskFooter shows the keys in the screen's
first compose, recomposes only when the keys it would show differ from those shown, and draws
all of them with one :class:`KeyLine`, a FooterKey that draws every key (same characters, same
styles, same cells: the SVG snapshots are unchanged) and presses the one under the finger.
A key that is disabled or has a tooltip gets Textual's own FooterKeys instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.widget import Widget
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.events import MouseDown
    from textual.screen import Screen

Shown = tuple[tuple[str, str, str, bool, str], ...]


def _keys(screen: Screen[object]) -> Shown:
    """What the footer would show: key, its display, description, enabled, tooltip."""
    app = screen.app
    return tuple(
        (binding.key, app.get_key_display(binding), binding.description, enabled, tooltip)
        for (_, binding, enabled, tooltip) in screen.active_bindings.values()
        if binding.show
    )


class KeyLine(FooterKey):
    """All the keys in one widget: a FooterKey's styles, each key drawn as its own FooterKey.

    Side by side, non-compact FooterKeys have no margin between them, so one widget drawing
    their texts one after the other puts the same characters in the same styles in the same
    cells, for one widget's work (mount, style, layout, render) instead of one per key.
    A press goes to the key under the pointer or finger, as it would with a FooterKey.
    """

    def __init__(self, keys: Shown) -> None:
        super().__init__("", "", "", "")
        self.keys = keys

    def _padded(self) -> Iterator[tuple[str, str, str]]:
        """Each key as drawn: (key, its padded display, its padded description)."""
        key_pad = self.get_component_styles("footer-key--key").padding
        description_pad = self.get_component_styles("footer-key--description").padding
        for key, display, description, _, _ in self.keys:
            yield (
                key,
                " " * key_pad.left + display + " " * key_pad.right,
                " " * description_pad.left + description + " " * description_pad.right,
            )

    def render(self) -> Text:
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        line = Text()
        for _, display, description in self._padded():
            part = Text.assemble((display, key_style), (description, description_style))
            part.stylize_before(self.rich_style)
            line.append_text(part)
        return line

    def _key_at(self, x: int) -> str:
        right = 0
        for key, display, description in self._padded():
            right += cell_len(display) + cell_len(description)
            if x < right:
                return key
        return ""

    def on_mouse_down(self, event: MouseDown) -> None:  # type: ignore[override]
        event.prevent_default()  # not FooterKey's handler: it would press this widget's key
        key = self._key_at(event.x)
        if key:
            self.app.simulate_key(key)


class KioskFooter(Widget, can_focus=False, can_focus_children=False):
    """The bottom line of a screen: Footer's look (its CSS), not its scrolling container."""

    ALLOW_SELECT = False
    DEFAULT_CSS = """
    KioskFooter {
        layout: horizontal;
        color: $footer-foreground;
        background: $footer-background;
        dock: bottom;
        height: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: Shown | None = None

    def compose(self) -> ComposeResult:
        # The keys are known when the screen composes: show them in its first frame.
        self._shown = shown = _keys(self.screen)
        if all(enabled and not tooltip for *_, enabled, tooltip in shown):
            line = KeyLine(shown)
            line.set_reactive(FooterKey.compact, False)
            yield line
            return
        for key, display, description, enabled, tooltip in shown:  # Textual's key widgets
            widget = FooterKey(key, display, description, "", disabled=not enabled, tooltip=tooltip)
            widget.set_reactive(FooterKey.compact, False)
            yield widget

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if _keys(screen) != self._shown:  # else the keys on show are still right
            self.call_after_refresh(self.recompose)
