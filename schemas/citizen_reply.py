"""A citizen's reply through Suomi.fi Messages, as a work item for staff (processes/citizen_reply)."""

from __future__ import annotations

#: The queue's process name of a citizen's reply waiting for a person.
PROCESS = "citizen_reply"
