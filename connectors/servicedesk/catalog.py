"""The city's service catalogue as the robot needs it: access profiles by job title, default equipment, due dates.

A new employee's IT account gets the access profile (käyttöoikeusprofiili) of their title; in
Helsinki social and health care that is an Apotti role (Apotti is the client and patient
information system of Helsinki and HUS). The table is data a city edits; titles are matched in
lower case, the longest matching ending first, so "erikoislääkäri" finds the physician's profile
and "hammaslääkäri" the dentist's. Due dates count working days (Monday to Friday) back from the
start date; public holidays are not in the table, so a due date can land on one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

RequestType = Literal["it_account", "access_card", "keys", "equipment"]
EquipmentKind = Literal["laptop", "desktop", "phone", "tablet", "headset"]


@dataclass(frozen=True)
class AccessProfile:
    code: str
    name: str
    systems: tuple[str, ...]


BASIC_SYSTEMS = ("Sähköposti ja kalenteri", "Helmi-intranet", "Sarastia-itsepalvelu")
_APOTTI = ("Apotti", *BASIC_SYSTEMS)

#: Title ending → access profile. The first column is matched against the end of the lower-cased title.
ACCESS_PROFILES: dict[str, AccessProfile] = {
    "sairaanhoitaja": AccessProfile("APOTTI-HOITAJA", "Apotti – sairaanhoitaja", _APOTTI),
    "lähihoitaja": AccessProfile("APOTTI-LAHIHOITAJA", "Apotti – lähihoitaja", _APOTTI),
    "terveydenhoitaja": AccessProfile("APOTTI-TERVEYDENHOITAJA", "Apotti – terveydenhoitaja", _APOTTI),
    "kätilö": AccessProfile("APOTTI-KATILO", "Apotti – kätilö", _APOTTI),
    "osastonhoitaja": AccessProfile("APOTTI-ESIHENKILO-HOITO", "Apotti – hoitotyön esihenkilö", (*_APOTTI, "Titania-työvuorosuunnittelu")),
    "vastaava hoitaja": AccessProfile("APOTTI-ESIHENKILO-HOITO", "Apotti – hoitotyön esihenkilö", (*_APOTTI, "Titania-työvuorosuunnittelu")),
    "lääkäri": AccessProfile("APOTTI-LAAKARI", "Apotti – lääkäri", (*_APOTTI, "Kanta-palvelut (ammattikortti)")),
    "hammaslääkäri": AccessProfile("APOTTI-HAMMASLAAKARI", "Apotti – hammaslääkäri", (*_APOTTI, "Kanta-palvelut (ammattikortti)")),
    "suuhygienisti": AccessProfile("APOTTI-SUUN-TH", "Apotti – suun terveydenhuolto", _APOTTI),
    "hammashoitaja": AccessProfile("APOTTI-SUUN-TH", "Apotti – suun terveydenhuolto", _APOTTI),
    "fysioterapeutti": AccessProfile("APOTTI-TERAPEUTTI", "Apotti – terapeutti", _APOTTI),
    "toimintaterapeutti": AccessProfile("APOTTI-TERAPEUTTI", "Apotti – terapeutti", _APOTTI),
    "sosiaaliohjaaja": AccessProfile("APOTTI-SOSIAALITYO", "Apotti – sosiaalityö", _APOTTI),
    "sosiaalityöntekijä": AccessProfile("APOTTI-SOSIAALITYO", "Apotti – sosiaalityö", _APOTTI),
    "sihteeri": AccessProfile("APOTTI-SIHTEERI", "Apotti – sihteeri", _APOTTI),
}
BASIC_PROFILE = AccessProfile("PERUS", "Perustyöasema", BASIC_SYSTEMS)
KNOWN_PROFILE_CODES = frozenset({p.code for p in ACCESS_PROFILES.values()} | {BASIC_PROFILE.code})

#: Working days before the start date by which each request must be done.
LEAD_WORKING_DAYS: dict[RequestType, int] = {"it_account": 5, "equipment": 5, "access_card": 3, "keys": 1}

#: Title endings whose work is mostly on a ward or on the move: a work phone, no own laptop.
_PHONE_ONLY = ("hoitaja", "kätilö", "ohjaaja", "terapeutti", "suuhygienisti")


def access_profile_for(job_title: str) -> AccessProfile:
    """The access profile for a job title; the basic workstation profile when no row matches."""
    title = " ".join(job_title.lower().split())
    for ending in sorted(ACCESS_PROFILES, key=len, reverse=True):
        if title.endswith(ending):
            return ACCESS_PROFILES[ending]
    return BASIC_PROFILE


def default_equipment(job_title: str) -> tuple[EquipmentKind, ...]:
    """What a new employee with this title gets: a phone for ward and field work, a laptop and phone otherwise."""
    title = job_title.lower().strip()
    if title.endswith(_PHONE_ONLY) and not title.endswith(("osastonhoitaja", "vastaava hoitaja")):
        return ("phone",)
    return ("laptop", "phone")


def due_date_for(kind: RequestType, start_date: date) -> date:
    """``LEAD_WORKING_DAYS[kind]`` working days (Mon-Fri) before the start date."""
    day, left = start_date, LEAD_WORKING_DAYS[kind]
    while left:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day
