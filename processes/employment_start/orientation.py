"""The orientation plan (perehdytyssuunnitelma): tasks per role, with an owner and a due date.

Orientation is the employer's legal duty under työturvallisuuslaki 738/2002 (14 §); the
nearest supervisor plans it and names the perehdyttäjä (shared/reference/domain.md §4.2).
The templates below are a city's data, in Finnish because the plan is for the work community:
every plan has the common tasks (arrival, work safety, data protection training, start documents
for payroll), care work adds hygiene, work clothes and vaccination protection (tartuntatautilaki
48 §), registered professions add the right-to-practise check, and each system of the title's
access profile gets a training task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from connectors.servicedesk.catalog import access_profile_for
from schemas.employee import NewEmployee
from schemas.workdays import add_working_days


class Phase(StrEnum):
    FIRST_DAY = "Ensimmäinen päivä"
    FIRST_WEEK = "Ensimmäinen viikko"
    FIRST_MONTH = "Ensimmäinen kuukausi"


class Owner(StrEnum):
    SUPERVISOR = "Esihenkilö"
    MENTOR = "Perehdyttäjä"
    EMPLOYEE = "Työntekijä"
    IT = "IT-tuki"
    OCCUPATIONAL_HEALTH = "Työterveyshuolto"
    SAFETY = "Työsuojeluvaltuutettu"


@dataclass(frozen=True)
class OrientationTask:
    phase: Phase
    topic: str
    owner: Owner
    due: date


_COMMON: tuple[tuple[Phase, str, Owner], ...] = (
    (Phase.FIRST_DAY, "Vastaanotto, työyhteisön esittely ja nimetty perehdyttäjä", Owner.SUPERVISOR),
    (Phase.FIRST_DAY, "Työturvallisuus: poistumistiet, paloturvallisuus, ensiapu ja uhkaavien tilanteiden toimintaohje", Owner.SUPERVISOR),
    (Phase.FIRST_DAY, "Käyttäjätunnus, kulkukortti ja avaimet käyttöön", Owner.MENTOR),
    (Phase.FIRST_DAY, "Palkanlaskentaan: verokortti, perustietoilmoitus tilinumeroineen, työ- ja tutkintotodistukset", Owner.EMPLOYEE),
    (Phase.FIRST_WEEK, "Tietosuoja- ja tietoturvakoulutus (verkkokurssi) suoritettu", Owner.EMPLOYEE),
    (Phase.FIRST_WEEK, "Vaitiolovelvollisuus ja käyttäjäsitoumus allekirjoitettu", Owner.SUPERVISOR),
    (Phase.FIRST_WEEK, "Työhöntulotarkastus varattu työterveyshuollosta", Owner.EMPLOYEE),
    (Phase.FIRST_MONTH, "Työsuojelun perehdytys: riskien arviointi, ergonomia, työsuojelun yhteyshenkilöt", Owner.SAFETY),
    (Phase.FIRST_MONTH, "Perehdytyksen arviointikeskustelu ja koeajan tavoitteet", Owner.SUPERVISOR),
)
_CARE_WORK: tuple[tuple[Phase, str, Owner], ...] = (
    (Phase.FIRST_DAY, "Työvaatteet, nimikyltti, käsihygienia ja aseptiikka", Owner.MENTOR),
    (Phase.FIRST_WEEK, "Rokotussuoja tarkistettu (tartuntatautilaki 48 §)", Owner.OCCUPATIONAL_HEALTH),
    (Phase.FIRST_MONTH, "Lääkehoitosuunnitelma ja lääkehoidon osaamisen varmistaminen", Owner.SUPERVISOR),
)
_REGISTERED = (Phase.FIRST_DAY, "Ammattioikeus tarkistettu Valviran rekisteristä ({register})", Owner.SUPERVISOR)


def phase_due(phase: Phase, start: date) -> date:
    """First day: the start; first week: its fifth working day; first month: 30 days on (a working day)."""
    if phase is Phase.FIRST_DAY:
        return start
    if phase is Phase.FIRST_WEEK:
        return add_working_days(start, 4)
    return add_working_days(start + timedelta(days=30), 0)


def orientation_plan(employee: NewEmployee) -> list[OrientationTask]:
    """The plan for this employee's role, in phase order."""
    rows: list[tuple[Phase, str, Owner]] = list(_COMMON)
    profession = employee.profession
    if profession is not None:
        phase, topic, owner = _REGISTERED
        rows.append((phase, topic.format(register=f"Julki{profession.register}"), owner))
        if profession.care_work:
            rows.extend(_CARE_WORK)
    elif employee.work_clothes or employee.name_badge:
        rows.append(_CARE_WORK[0])
    for system in access_profile_for(employee.title).systems:
        rows.append((Phase.FIRST_WEEK, f"Järjestelmäkoulutus: {system}", Owner.IT if system.startswith("Sähköposti") else Owner.MENTOR))
    order = list(Phase)
    rows.sort(key=lambda row: order.index(row[0]))
    return [OrientationTask(phase, topic, owner, phase_due(phase, employee.start_date)) for phase, topic, owner in rows]
