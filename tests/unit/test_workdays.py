"""Finnish working days (holidays package): what due dates and the reminders schedule count."""

from datetime import date

from schemas.workdays import add_working_days, day_off_reason, holiday_name, is_working_day, working_days_between


def test_weekends_and_finnish_public_holidays_are_not_working_days():
    assert is_working_day(date(2026, 4, 2))  # Maundy Thursday is a working day
    assert not is_working_day(date(2026, 4, 3))  # pitkäperjantai
    assert not is_working_day(date(2026, 4, 6))  # 2. pääsiäispäivä
    assert not is_working_day(date(2026, 6, 19))  # juhannusaatto
    assert not is_working_day(date(2026, 12, 24))  # jouluaatto
    assert not is_working_day(date(2026, 12, 6))  # itsenäisyyspäivä (a Sunday anyway)
    assert not is_working_day(date(2026, 3, 7))  # Saturday
    assert holiday_name(date(2026, 4, 3)) == "Pitkäperjantai"


def test_counting_working_days_skips_easter():
    # Three working days before Tuesday 7 April 2026: Thu 2 Apr, Wed 1 Apr, Tue 31 Mar.
    assert add_working_days(date(2026, 4, 7), -3) == date(2026, 3, 31)
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 4), 0) == date(2026, 4, 7)
    assert working_days_between(date(2026, 3, 31), date(2026, 4, 7)) == 3
    assert working_days_between(date(2026, 4, 7), date(2026, 3, 31)) == -3


def test_a_working_day_run_is_told_why_it_has_nothing_to_do():
    assert day_off_reason(date(2026, 12, 4)) is None  # a Friday
    assert day_off_reason(date(2026, 12, 5)) == "viikonloppu"
    assert day_off_reason(date(2026, 12, 24)) == "Jouluaatto"
