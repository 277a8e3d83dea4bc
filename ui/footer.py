"""The key-hint line at the bottom of every screen: Textual's Footer, drawn the same, built cheaper.

Textual's Footer costs the kiosk's first frame about a third of its start-up (bench/ui.py):

- it binds each key's ``compact`` to its own with ``data_bind``; a key starts compact and is then
  told it is not, so every key is restyled twice on mount, each time with the whole stylesheet;
- it recomposes (all keys thrown away and mounted again) whenever the screen says its bindings
  may have changed, which happens a few times while a screen mounts and focuses its first
  button, although the keys to show are the same each time.

The kiosk never switches the footer to compact, so the keys are built non-compact from the start
(same classes, same pixels), and a recompose is skipped when the keys it would show are the ones
shown. What is drawn, clicked or tapped is Textual's own FooterKey.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.app import ComposeResult
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


class KioskFooter(Footer):
    """Footer for a kiosk: never compact, recomposed only when its keys change."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: Shown | None = None

    def compose(self) -> ComposeResult:
        # The keys are known when the screen composes: show them in its first frame, instead of
        # an empty line and then a recompose once the screen reports its bindings.
        self.set_reactive(Footer._bindings_ready, True)
        self._shown = _keys(self.screen)
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # Unbind what Footer.compose bound (Footer.compact, which stays False here) and
                # set the key's value before it mounts: no class toggled, no restyle.
                widget._reactive_connect = None
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    def bindings_changed(self, screen: Screen[object]) -> None:
        if self.is_attached and screen is self.screen and _keys(screen) == self._shown:
            return  # the keys on show are still right: nothing to redraw
        super().bindings_changed(screen)
