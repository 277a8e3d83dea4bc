"""The shipped fake ``LabelPrinter``: writes what a printer would receive, and what it would print.

Used by unit tests, the demo and the image's smoke test (STYLE.md 2). It goes through exactly the
same render -> python-escpos bytes path as the real printer, then writes two files per label:

- ``label-<issued_on>-<job_id>.bin``: the ESC/POS bytes;
- ``label-<issued_on>-<job_id>.png``: those bytes parsed back by :mod:`drivers.printer.raster`,
  so the PNG proves the bytes, not just the renderer.

Files are written to a temporary name and renamed, so a reader never sees half a label. Setting
``fault`` (e.g. ``PaperOut()``) makes ``print_label`` raise it and write nothing, as a real printer
fault would; the caller keeps the job.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

from appliance.errors import PrinterError
from appliance.ports import DeviceState, DeviceStatus
from appliance.values import LabelJob, PrintedLabel
from drivers.printer.escpos_output import label_bytes
from drivers.printer.raster import raster_to_image
from drivers.printer.render import DEFAULT_LAYOUT, LabelLayout, render_label

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class VirtualPrinter:
    """A ``LabelPrinter`` that prints into ``folder``."""

    def __init__(
        self, folder: Path, layout: LabelLayout = DEFAULT_LAYOUT, *, feed_units_per_dot: int = 1
    ) -> None:
        self.folder = Path(folder)
        self.layout = layout
        self.feed_units_per_dot = feed_units_per_dot
        self.fault: PrinterError | None = None

    def label_bytes(self, job: LabelJob) -> bytes:
        """Exactly the bytes a real printer with this layout would receive for ``job``."""
        return label_bytes(
            render_label(job, self.layout),
            max_width_dots=self.layout.width_dots,
            feed_units_per_dot=self.feed_units_per_dot,
        )

    def print_label(self, job: LabelJob) -> PrintedLabel:
        """Render, write ``.png`` and ``.bin``; raise ``fault`` (writing nothing) if one is set."""
        if self.fault is not None:
            raise self.fault
        data = self.label_bytes(job)
        image = raster_to_image(
            data, self.layout.width_dots, feed_units_per_dot=self.feed_units_per_dot
        )
        stem = f"label-{_safe(job.issued_on)}-{_safe(job.job_id)}"
        png_path, bin_path = self.folder / f"{stem}.png", self.folder / f"{stem}.bin"
        png = io.BytesIO()
        image.save(png, format="PNG")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _write_atomically(bin_path, data)
            _write_atomically(png_path, png.getvalue())  # last: a PNG means both are complete
        except OSError as exc:
            raise PrinterError(f"virtual printer cannot write to {self.folder}: {exc}") from exc
        return PrintedLabel(job.job_id, (str(png_path), str(bin_path)))

    def status(self) -> DeviceStatus:
        """OK, or FAULT with the injected fault's message key while one is set."""
        if self.fault is not None:
            return DeviceStatus("printer", DeviceState.FAULT, f"virtual printer: {self.fault.key}")
        return DeviceStatus("printer", DeviceState.OK, f"virtual printer writing to {self.folder}")


def _safe(part: str) -> str:
    """A file-name part that cannot leave the folder (no separators, no leading dot)."""
    return _UNSAFE.sub("_", part).lstrip(".") or "_"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
