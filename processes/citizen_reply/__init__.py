"""Citizens' replies to what the city sent through Suomi.fi Messages become work items for staff.

``intake.py``: :class:`ReplyIntake` reads ``/v2/events``, fetches each reply with
``/v2/messages/{id}`` and queues it as a ``citizen_reply`` item linked to the case it answers.
"""

from processes.citizen_reply.intake import CURSOR, PROCESS, CitizenReply, IntakeResult, ReplyIntake

__all__ = ["CURSOR", "PROCESS", "CitizenReply", "IntakeResult", "ReplyIntake"]
