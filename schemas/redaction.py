"""Masking of Finnish personal identity codes (henkilötunnus) in any text Kuntaflow writes.

One pattern serves every place: Python logging, Prefect logs, Robot Framework output, queue
error messages and operator views. It masks every century sign, including the letters
A–F and U–Y in use since 2023, and over-masks rather than miss a code.

- Python and Prefect logging: :func:`install` masks every log record as it is created, so no
  handler (a file, the console, Prefect's API log handler) ever sees the code, and sets the
  httpx/httpcore loggers to WARNING (they log full URLs with query strings at INFO). The CLI, the
  flows, ``run_robot`` and every robot process call it.
- Robot Framework: :class:`RobotRedactionListener` masks what the robot is about to write;
  the runner (kuntaflow/robot_runner.py) masks ``output.xml`` again after the run (log.html and
  report.html are built from it when someone opens the log) and masks the console as it captures it.
- :func:`find_unmasked` checks the files a robot run left, log.html read as a browser shows it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import traceback
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HETU_PATTERN = re.compile(r"(?<![0-9])[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]", re.IGNORECASE)
MASK = "******-****"


def redact(text: str) -> str:
    """Return ``text`` with every henkilötunnus-shaped substring masked."""
    return HETU_PATTERN.sub(MASK, text)


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-like structure (dicts, lists, scalars)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(key)): redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(item) for item in value]
    return value


# --------------------------------------------------------------------------- Python and Prefect logging

_FACTORY_MARK = "_kuntaflow_redacting"


def install() -> None:
    """Mask henkilötunnus patterns in every Python log record, from any logger, at any level.

    The record factory runs when a record is created, before any handler sees it, so the mask
    holds for console and file handlers and for Prefect's API log handler alike (Prefect's
    ``get_run_logger()`` is standard logging). Idempotent: the installed factory is marked, so
    the runner, the flows and the CLI may all call this.
    """
    quiet_url_loggers()
    previous = logging.getLogRecordFactory()
    if getattr(previous, _FACTORY_MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    setattr(factory, _FACTORY_MARK, True)
    logging.setLogRecordFactory(factory)


URL_LOGGERS = ("httpx", "httpcore")
"""They log every request's full URL at INFO/DEBUG, query string included (Koha's ``q=``, references)."""


def quiet_url_loggers() -> None:
    """Raise the httpx and httpcore loggers to WARNING unless someone set them higher already.

    Connectors log method, path and status themselves (``connectors/http.py``), without the query.
    """
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def is_installed() -> bool:
    """Whether :func:`install` is in effect in this process."""
    return bool(getattr(logging.getLogRecordFactory(), _FACTORY_MARK, False))


def _redact_record(record: logging.LogRecord) -> None:
    """Mask the record's message, keeping ``args`` in their shape.

    Formatters such as uvicorn's access log unpack ``record.args`` themselves, so string
    arguments are masked in place rather than folded into ``msg``. Only when a code would still
    show once formatted (split between the format and its arguments) is the message folded,
    masked, into ``msg`` with no arguments left.
    """
    try:
        original = record.getMessage()
    except Exception:  # a malformed format string: keep what there is, masked
        record.msg, record.args = redact(f"{record.msg} {record.args}"), None
    else:
        if isinstance(record.msg, str) and record.args:
            record.msg = redact(record.msg)
            record.args = _redact_args(record.args)
            try:
                masked: str | None = record.getMessage()
            except Exception:
                masked = None
            if masked is None or HETU_PATTERN.search(masked):
                record.msg, record.args = redact(original), None
        else:
            record.msg = redact(original)
    if record.exc_info and record.exc_info[1] is not None:
        # Exception text is formatted later by handlers; format it now, masked, so they reuse it.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)))
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _redact_args(args: Any) -> Any:
    if isinstance(args, tuple):
        return tuple(_redact_arg(arg) for arg in args)
    if isinstance(args, Mapping):
        return {key: _redact_arg(value) for key, value in args.items()}
    return _redact_arg(args)


def _redact_arg(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value  # digits alone never make a code
    if HETU_PATTERN.search(str(value)) or HETU_PATTERN.search(repr(value)):
        return _Masked(value)
    return value


class _Masked:
    """An argument whose text held a code: formats as the masked ``str``/``repr`` of the original."""

    __slots__ = ("_repr", "_str")

    def __init__(self, value: Any) -> None:
        self._str = redact(str(value))
        self._repr = redact(repr(value))

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        return self._repr

    def __format__(self, spec: str) -> str:
        return format(self._str, spec)


# --------------------------------------------------------------------------- Robot Framework output


def redact_file(path: Path) -> None:
    """Mask a text file in place (Robot Framework's output.xml, console captures)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    masked = redact(text)
    if masked != text:
        path.write_text(masked, encoding="utf-8")


class RobotRedactionListener:
    """Robot Framework listener (API v3) that masks what Robot Framework is about to write.

    Listeners are called before the output file writer when an item ends, so masking the
    result here keeps log messages, keyword arguments, ``FOR``/``VAR``/``RETURN`` values and
    failure messages out of ``output.xml`` even while the robot is still running. The runner
    masks ``output.xml`` once more after the run; log.html is built from that file (on demand), which
    covers anything this listener does not know about.
    """

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self) -> None:
        install()  # Python logging inside the robot process (connectors, libraries) too

    def log_message(self, message: Any) -> None:
        message.message = redact(message.message)

    def message(self, message: Any) -> None:
        message.message = redact(message.message)

    def end_body_item(self, data: Any, result: Any) -> None:
        """Every keyword and control structure: arguments, values, messages."""
        _redact_result(result)

    def end_test(self, data: Any, result: Any) -> None:
        _redact_result(result)

    def end_suite(self, data: Any, result: Any) -> None:
        _redact_result(result)


def _redact_result(result: Any) -> None:
    """Mask the parts of a Robot Framework result item that output.xml writes as text."""
    from robot import result as rf  # noqa: PLC0415 (Robot Framework is heavy; only robot runs, which have it loaded, get here)

    if isinstance(result, rf.Keyword):
        result.args = tuple(redact(str(arg)) for arg in result.args)
    elif isinstance(result, (rf.For, rf.Return, rf.Error)):
        result.values = tuple(redact(str(value)) for value in result.values)
    elif isinstance(result, rf.Var):
        result.value = tuple(redact(str(value)) for value in result.value)
    elif isinstance(result, rf.ForIteration):
        result.assign = {name: redact(str(value)) for name, value in result.assign.items()}
    elif isinstance(result, (rf.IfBranch, rf.While)) and result.condition:
        result.condition = redact(result.condition)
    elif isinstance(result, rf.Group):
        result.name = redact(result.name)
    if result.message:
        result.message = redact(result.message)


# --------------------------------------------------------------------------- checking a robot run's files

_RF_STRINGS = re.compile(r'window\.output\["strings"\] = window\.output\["strings"\]\.concat\((\[.*?\])\);', re.S)
_TEXT_SUFFIXES = {".xml", ".html", ".txt", ".log", ".json"}


def robot_run_texts(run_dir: Path) -> dict[str, str]:
    """The readable text of every text file a robot run left, by file name.

    Robot Framework's log.html and report.html keep most strings zlib-compressed and
    base64-encoded; they are opened here, so a check reads what a browser would show.
    """
    texts: dict[str, str] = {}
    for path in sorted(Path(run_dir).iterdir()):
        if path.suffix not in _TEXT_SUFFIXES or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".html":
            text = text.replace("\\x3c", "<")
            text += "\n".join(_rf_strings(text))
        texts[path.name] = text
    return texts


def _rf_strings(html: str) -> list[str]:
    strings: list[str] = []
    for chunk in _RF_STRINGS.findall(html):
        for item in json.loads(chunk):
            strings.append(item[1:] if item.startswith("*") else zlib.decompress(base64.b64decode(item)).decode("utf-8"))
    return strings


def find_unmasked(run_dir: Path) -> dict[str, int]:
    """``{file name: henkilötunnus-shaped strings}`` in a robot run's files; empty when all is masked."""
    found = {name: len(HETU_PATTERN.findall(text)) for name, text in robot_run_texts(run_dir).items()}
    return {name: count for name, count in found.items() if count}
