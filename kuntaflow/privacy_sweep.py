"""Privacy sweep: look through everything Kuntaflow wrote for a henkilötunnus, and say where (never what).

What a city's IT team runs before it trusts an installation with personal data, and what the
tests run after a full ``kuntaflow run``: every file under a folder (the data directory: the
queue's and Prefect's SQLite databases with their WAL files, robot outputs, Excel reports and
orientation plans, letters, logs) is read as bytes. Zip containers (``.xlsx``, ``.docx``) and gzip
files are opened and their members read too, since a workbook's cells are compressed. A finding is
a henkilötunnus with a valid check character and a real date (``schemas.parse_hetu``), or one of the
``known`` codes in any spelling a file could hold it in (as is, URL-encoded); the finding names the
file, the member and the byte offset, and never the code.

    kuntaflow privacy-sweep [FOLDER]     # exit 1 when anything is found

The same sweep, on the queue: :func:`clear_finished_payloads` strips the personal data from the payloads
of work items finished longer ago than the retention period (``KUNTAFLOW_PAYLOAD_RETENTION_DAYS``),
keeping ids, codes, the outcome and the audit trail. The ``personal-data-retention`` deployment runs it
nightly (``flows/personal_data_retention.py``), and ``kuntaflow privacy-sweep --clear-finished-payloads`` at once.
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from kuntaflow.workitems import WorkQueue
from schemas.hetu import parse_hetu

#: The pattern of schemas.redaction, on bytes: six digits, a century sign, three digits, a check
#: character, standing on its own. Not glued to letters or digits on either side: inside a UUID
#: ("…df151111-7674-…") the same shape turns up by chance, with a valid check character one time in 31.
_HETU_BYTES = re.compile(rb"(?<![0-9A-Za-z])[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y](?![0-9A-Za-z])", re.IGNORECASE)
#: Containers opened to read their members (compressed, so their bytes hide the text).
_ZIP_SUFFIXES = {".xlsx", ".xlsm", ".docx", ".zip", ".odt", ".ods"}
_MAX_MEMBER_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    """Where a henkilötunnus was found: the file, the member inside a container, the byte offset."""

    path: Path
    member: str | None
    offset: int
    known: bool

    def __str__(self) -> str:
        where = f"{self.path}" + (f" [{self.member}]" if self.member else "")
        what = "a sample person's henkilötunnus" if self.known else "a valid henkilötunnus"
        return f"{where} at byte {self.offset}: {what}"


def _valid(code: bytes) -> bool:
    try:
        parse_hetu(code.decode("ascii").upper())
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _spellings(known: Iterable[str]) -> list[bytes]:
    found: set[bytes] = set()
    for code in known:
        for text in (code, code.lower(), quote(code, safe=""), quote(code.lower(), safe="")):
            found.add(text.encode("ascii"))
    return sorted(found)


def scan_bytes(data: bytes, *, known: list[bytes] = (), path: Path, member: str | None = None) -> list[Finding]:
    """Findings in one blob: valid henkilötunnus patterns, and any spelling of a known code."""
    findings = {match.start(): Finding(path, member, match.start(), False) for match in _HETU_BYTES.finditer(data) if _valid(match.group())}
    for spelling in known:
        start = data.find(spelling)
        while start != -1:
            findings[start] = Finding(path, member, start, True)
            start = data.find(spelling, start + 1)
    return [findings[offset] for offset in sorted(findings)]


def _members(path: Path, data: bytes) -> Iterator[tuple[str, bytes]]:
    if path.suffix.lower() in _ZIP_SUFFIXES or data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and info.file_size <= _MAX_MEMBER_BYTES:
                        yield info.filename, archive.read(info)
        except zipfile.BadZipFile:
            return
    elif data[:2] == b"\x1f\x8b":
        try:
            yield "gzip", gzip.decompress(data)
        except (OSError, EOFError):
            return


def sweep(root: Path, *, known: Iterable[str] = ()) -> list[Finding]:
    """Every finding in every file under ``root`` (symlinks not followed)."""
    spellings = _spellings(known)
    findings: list[Finding] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        findings += scan_bytes(data, known=spellings, path=path)
        for member, content in _members(path, data):
            findings += scan_bytes(content, known=spellings, path=path, member=member)
    return findings


def files_swept(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file() and not p.is_symlink())


#: Items cleared per transaction: a night's backlog goes in short transactions beside the robots.
CLEAR_BATCH = 500


@dataclass(frozen=True)
class PayloadRetentionReport:
    """What :func:`clear_finished_payloads` did: the items cleared and the cut-off they finished before."""

    finished_before: datetime
    cleared: tuple[int, ...]


def clear_finished_payloads(
    queue: WorkQueue, *, retention: timedelta, keep: Mapping[str, Collection[str]], actor: str, now: datetime | None = None
) -> PayloadRetentionReport:
    """Clear the personal data of every item finished (DONE, BUSINESS_FAILED, ABANDONED) more than
    ``retention`` ago; ``keep`` names, per process, the payload fields that are not personal data.

    Idempotent and in the audit trail (``WorkQueue.clear_personal_data``)."""
    finished_before = (now or datetime.now(UTC)) - retention
    cleared: list[int] = []
    while batch := queue.clear_personal_data(finished_before=finished_before, keep=keep, actor=actor, limit=CLEAR_BATCH):
        cleared += batch
        if len(batch) < CLEAR_BATCH:
            break
    return PayloadRetentionReport(finished_before=finished_before, cleared=tuple(cleared))
