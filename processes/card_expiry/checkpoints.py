"""The card-expiry reminder's checkpoints: ``reminder_channel`` (``processes.notify.ChannelChosen``,
before sending) and ``reminder_sent`` (below, after), written by ``processes.notify``."""

from __future__ import annotations

from processes.notify import MessageSent


class ReminderSent(MessageSent):
    """How the reminder went out; ``external_id`` makes a resend after a crash a no-op at the peer."""

    STEP = "reminder_sent"
