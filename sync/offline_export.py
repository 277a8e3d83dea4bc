"""Exports of the bookmobile mapping: Koha's ``.koc`` rewritten, and CSV for other systems.

Both files hold card numbers (that is their point), so they are written owner-only, and only all
together: every output goes to a temporary name first, is fsynced, and is renamed into place
only when every output is complete. A malformed ``.koc`` line therefore leaves nothing behind,
not even the CSV (``KocError`` lists every bad line).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.daytokens import TokenPolicy
from appliance.errors import KocError
from appliance.koc import rewrite_koc
from sync.offline import Mapping

CSV_HEADER = ("token", "card_number", "issuer_id", "signed_at", "stop")


@dataclass(frozen=True)
class ExportResult:
    paths: tuple[Path, ...]
    mappings: int
    koc_replaced: int = 0


def mapping_csv(mappings: Sequence[Mapping]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for m in mappings:
        writer.writerow(
            (m.token, m.card_number, m.issuer_id, m.signed_at.isoformat(timespec="seconds"), m.stop)
        )
    return out.getvalue()


def export(
    mappings: Sequence[Mapping],
    out_dir: Path,
    *,
    stem: str,
    koc: Path | None = None,
    policy: TokenPolicy | None = None,
) -> ExportResult:
    """Write ``<stem>.csv`` and, given a ``.koc``, ``<its name>.resolved.koc`` into ``out_dir``."""
    outputs: list[tuple[Path, bytes]] = [
        (out_dir / f"{stem}.csv", mapping_csv(mappings).encode("utf-8"))
    ]
    replaced = 0
    if koc is not None:
        try:
            text = koc.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise KocError([f"byte {exc.start}: the file is not UTF-8 text"]) from exc
        except OSError as exc:
            raise KocError([f"{koc}: cannot be read ({exc.strerror})"]) from exc
        result = rewrite_koc(
            text,
            {m.token: m.card_number for m in mappings},
            bare=policy.bare if policy else (lambda value: value),
            is_token=(lambda bare: policy.claims(bare)) if policy else (lambda bare: False),
        )
        replaced = result.replaced
        outputs.append((out_dir / f"{koc.stem}.resolved.koc", result.text.encode("utf-8")))
    _write_all(outputs)
    return ExportResult(tuple(path for path, _ in outputs), len(mappings), replaced)


def _write_all(outputs: Sequence[tuple[Path, bytes]]) -> None:
    temps: list[tuple[Path, Path]] = []
    try:
        for path, data in outputs:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, path in temps:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
