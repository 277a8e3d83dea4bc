"""ESC/POS bytes back into the image they print.

This is how we prove a byte stream really carries the label: the virtual printer's PNG is made
from the bytes, not from the rendered image, and the tests decode barcodes from it. The parser is
deliberately strict. It knows the few commands our labels use and refuses anything else, so a
stray text byte or an unexpected command fails loudly instead of being skipped:

========================  ==========================================================
``ESC @``                 initialise: justification back to left
``ESC a n``               justification of the following raster blocks: left, centre or
                          right within ``width`` dots (the paper)
``ESC J n``               feed n units: n / ``feed_units_per_dot`` white rows (whole rows only)
``ESC d n`` / ``LF``      line feeds (ignored: they only come before the cut, and their
                          height is the printer's line spacing, not ours)
``GS v 0 m xL xH yL yH``  raster block, stacked below the previous one; m = 1/2/3 doubles
                          width/height/both, as the printer would
``GS V m [n]``            cut (ends nothing: blocks after a cut still stack)
========================  ==========================================================

The paper width matters only for justified blocks narrower than the paper; without it the
widest block is taken as the paper, which is exact for full-width rasters.

Raster bits are 1 = black dot, most significant bit leftmost, rows padded to whole bytes.
"""

from __future__ import annotations

from PIL import Image

_ESC, _GS, _LF = 0x1B, 0x1D, 0x0A
_ESC_ARGS = {ord("@"): 0, ord("a"): 1, ord("d"): 1, ord("J"): 1}
_JUSTIFY = {0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}
_CUT_NO_ARG = {0, 1, 48, 49}
_CUT_WITH_FEED = {65, 66}
_WHITE = 255  # mode "1" white; Image.new(..., 1) would store a non-canonical 1


def raster_to_image(
    data: bytes, width: int | None = None, *, feed_units_per_dot: int = 1
) -> Image.Image:
    """The mode ``"1"`` image printed by ``data``; ``ValueError`` if it is malformed or unknown.

    ``width`` is the paper's printable width in dots (see the module docstring).
    """
    blocks: list[tuple[Image.Image, int]] = []  # (block or feed, justification)
    justify = 0
    pos = 0
    while pos < len(data):
        byte = data[pos]
        if byte == _LF:
            pos += 1
        elif byte == _ESC:
            command = _at(data, pos + 1, "ESC command")
            if command not in _ESC_ARGS:
                raise ValueError(f"unsupported command ESC 0x{command:02X} at offset {pos}")
            argument = _at(data, pos + 1 + _ESC_ARGS[command], "ESC argument")
            if command == ord("@"):
                justify = 0
            elif command == ord("a"):
                if argument not in _JUSTIFY:
                    raise ValueError(f"unsupported justification {argument} at offset {pos}")
                justify = _JUSTIFY[argument]
            elif command == ord("J"):
                rows, part = divmod(argument, feed_units_per_dot)
                if part:  # our streams feed whole dots; anything else is not ours
                    raise ValueError(f"feed of {argument} units is not whole dots at {pos}")
                if rows:
                    blocks.append((Image.new("1", (1, rows), _WHITE), -1))
            pos += 2 + _ESC_ARGS[command]
        elif byte == _GS and data[pos + 1 : pos + 3] == b"v0":
            block, pos = _raster_block(data, pos)
            blocks.append((block, justify))
        elif byte == _GS and data[pos + 1 : pos + 2] == b"V":
            mode = _at(data, pos + 2, "cut mode")
            if mode in _CUT_NO_ARG:
                pos += 3
            elif mode in _CUT_WITH_FEED:
                _at(data, pos + 3, "cut feed")
                pos += 4
            else:
                raise ValueError(f"unsupported cut mode {mode} at offset {pos}")
        else:
            raise ValueError(f"unexpected byte 0x{byte:02X} at offset {pos}")
    if not any(justify >= 0 for _, justify in blocks):
        raise ValueError("no raster image in the data")
    return _stack(blocks, width)


def _at(data: bytes, index: int, what: str) -> int:
    if index >= len(data):
        raise ValueError(f"truncated {what} at offset {index}")
    return data[index]


def _raster_block(data: bytes, pos: int) -> tuple[Image.Image, int]:
    header = data[pos + 3 : pos + 8]
    if len(header) < 5:
        raise ValueError(f"truncated raster header at offset {pos}")
    mode, width_bytes, height = header[0], header[1] | header[2] << 8, header[3] | header[4] << 8
    if mode not in (0, 1, 2, 3, 48, 49, 50, 51):
        raise ValueError(f"unsupported raster mode {mode} at offset {pos}")
    if width_bytes == 0 or height == 0:
        raise ValueError(f"empty raster block at offset {pos}")
    start = pos + 8
    end = start + width_bytes * height
    if end > len(data):
        raise ValueError(f"truncated raster data at offset {pos}: {end - len(data)} bytes missing")
    block = Image.frombytes("1", (width_bytes * 8, height), data[start:end], "raw", "1;I")
    scale_x, scale_y = 1 + (mode & 1), 1 + (mode >> 1 & 1)
    if (scale_x, scale_y) != (1, 1):
        block = block.resize(
            (block.width * scale_x, block.height * scale_y), Image.Resampling.NEAREST
        )
    return block, end


def _stack(blocks: list[tuple[Image.Image, int]], width: int | None) -> Image.Image:
    """Blocks top to bottom; a justification of -1 marks a feed (white, no width of its own)."""
    paper = width or max(b.width for b, justify in blocks if justify >= 0)
    image = Image.new("1", (paper, sum(b.height for b, _ in blocks)), _WHITE)
    y = 0
    for block, justify in blocks:
        if justify >= 0:
            if block.width > paper:
                raise ValueError(f"raster block of {block.width} dots is wider than {paper}")
            x = (paper - block.width) * justify // 2  # 0 left, 1 centre, 2 right
            image.paste(block, (x, y))
        y += block.height
    return image
