"""Stored ISO dates and moments as staff read them."""

from __future__ import annotations

from apps.i18n import readable_text


def test_a_stored_date_or_moment_reads_as_staff_read_dates_and_other_text_stays():
    assert readable_text("2027-01-31") == "31.1.2027"
    assert readable_text("2026-11-20T08:05:00+00:00") == "20.11.2026 10.05"  # Helsinki time
    assert readable_text("2026-11-20T08:05:00") == "20.11.2026 8.05"  # no time zone: as it is
    for text in ("JYVPK", "2027-13-45", "2027-01-31 and more", "12345-678", "", "suomifi"):
        assert readable_text(text) == text
