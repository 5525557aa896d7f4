"""Processes no robot works on: a person handles every case of theirs, so each open one waits for a person.

A citizen's reply (``citizen_reply``) is queued for staff to read and answer; it stays NEW until someone
marks it done. The Desk's dashboard, the daily staff digest and ``kuntaflow run``'s summary count such
open cases as waiting, beside the robots' business failures and abandoned cases.
"""

from __future__ import annotations

from schemas import citizen_reply

#: Queue process names whose open cases (any state but a final one) wait for a person.
HANDLED_BY_PEOPLE: frozenset[str] = frozenset({citizen_reply.PROCESS})
