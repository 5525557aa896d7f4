"""Seed data for the HR sandbox: Helsinki social and health care units, their cost centres and supervisors.

Units and addresses are real Helsinki places (Sosiaali-, terveys- ja pelastustoimiala); the cost
centres, people and their hetus are invented (individual numbers 900-999 are the range used for
test persons). Work e-mail addresses use the reserved ``.example`` domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from schemas.hetu import check_character

DIVISION = "Sosiaali-, terveys- ja pelastustoimiala"
WORK_EMAIL_DOMAIN = "hel.example"


def test_hetu(born: date, individual: int) -> str:
    """A valid henkilötunnus for a test person (individual number 900-999)."""
    sign = "-" if born.year < 2000 else "A"
    head = born.strftime("%d%m%y")
    return f"{head}{sign}{individual:03d}{check_character(f'{head}{individual:03d}')}"


@dataclass(frozen=True)
class SeedSupervisor:
    employee_id: int
    first_names: str
    last_name: str
    job_title: str
    born: date
    individual: int

    @property
    def work_email(self) -> str:
        first = self.first_names.split()[0].lower()
        return f"{first}.{self.last_name.lower()}@{WORK_EMAIL_DOMAIN}".replace("ä", "a").replace("ö", "o")


@dataclass(frozen=True)
class SeedUnit:
    unit_id: str
    name: str
    name_sv: str
    cost_centres: tuple[str, ...]
    supervisor_id: int
    street_address: str
    postal_code: str


SUPERVISORS = (
    SeedSupervisor(100101, "Satu Johanna", "Lehtonen", "osastonhoitaja", date(1974, 3, 12), 902),
    SeedSupervisor(100102, "Kaisa", "Laine", "vastaava hoitaja", date(1980, 9, 1), 904),
    SeedSupervisor(100103, "Päivi", "Nieminen", "kotihoitopäällikkö", date(1969, 11, 23), 906),
    SeedSupervisor(100104, "Jari Tapani", "Mäkelä", "palvelukeskuksen johtaja", date(1972, 5, 30), 911),
    SeedSupervisor(100105, "Anna-Maija", "Koskinen", "ylihammaslääkäri", date(1977, 1, 8), 908),
    SeedSupervisor(100106, "Mikko", "Heinonen", "vastaava lääkäri", date(1983, 7, 14), 915),
    SeedSupervisor(100107, "Leena", "Salo", "perhekeskuksen johtaja", date(1971, 4, 2), 920),
)

UNITS = (
    SeedUnit("SOTE-LAAKSO-OS7", "Laakson sairaala, osasto 7", "Dals sjukhus, avdelning 7", ("2813720", "2813721"), 100101, "Lääkärinkatu 8", "00250"),
    SeedUnit(
        "SOTE-KALASATAMA-TA",
        "Kalasataman terveys- ja hyvinvointikeskus",
        "Fiskehamnens hälso- och välfärdscentral",
        ("2711410",),
        100102,
        "Työpajankatu 14 A",
        "00580",
    ),
    SeedUnit("SOTE-MALMI-TA", "Malmin terveysasema", "Malms hälsostation", ("2711520",), 100106, "Talvelantie 6", "00700"),
    SeedUnit(
        "SOTE-KOTIHOITO-ITA",
        "Kotihoito, itäinen alue (Vuosaari)",
        "Hemvård, östra området (Nordsjö)",
        ("2922310", "2922311"),
        100103,
        "Mosaiikkitori 2",
        "00980",
    ),
    SeedUnit("SOTE-KONTULA-PK", "Kontulan palvelukeskus", "Gårdsbacka servicecentral", ("2931150",), 100104, "Ostostie 4", "00940"),
    SeedUnit("SOTE-KALLIO-SUU", "Kallion hammashoitola", "Berghälls tandklinik", ("2751210",), 100105, "Sturenkatu 8", "00510"),
    SeedUnit("SOTE-PERHEKESKUS-ITA", "Itäinen perhekeskus", "Östra familjecentret", ("2641110",), 100107, "Turunlinnantie 14", "00900"),
)
