"""The label printer: our own label raster, python-escpos bytes, and the virtual printer.

Everything that reaches a printer is one raster image plus a cut: the library name is kanji, which
python-escpos's text path cannot print, and a barcode we draw ourselves is the only way to get
whole-dot bars and real quiet zones (LABELS.md). Sending no text at all also means no card data or
configured name can ever be read by the printer as a control code.

Modules, each with one role:

- :mod:`drivers.printer.codabar`: NW-7/Codabar module pattern (our own encoder: see there why).
- :mod:`drivers.printer.symbols`: every symbology (Code39/Code128 patterns from python-barcode)
  drawn at whole-dot widths with 10-module quiet zones.
- :mod:`drivers.printer.render`: a :class:`~appliance.values.LabelJob` as a 1-bit label image.
- :mod:`drivers.printer.escpos_output`: that image as the exact ESC/POS bytes (python-escpos),
  white space as paper feed.
- :mod:`drivers.printer.raster`: ESC/POS raster bytes back into an image (proof and tests).
- :mod:`drivers.printer.virtual`: the shipped fake ``LabelPrinter`` writing ``.bin`` + ``.png``.
- :mod:`drivers.printer.escpos_printer`: the real ``LabelPrinter`` (USB, serial, network, file).
- :mod:`drivers.printer.status`: ESC/POS real-time status (DLE EOT), or "unknown".
- :mod:`drivers.printer.setup`: the layout and printer the config names.

Jobs reach a printer only through :mod:`appliance.spool` (kept until printed, never twice).
"""
