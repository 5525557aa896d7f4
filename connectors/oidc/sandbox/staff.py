"""The fictional city employees the OIDC sandbox signs in.

Their ``groups`` are the default groups of the staff app's roles (``StaffSettings.role_groups``):
the librarian handles library cards, the HR officer employment starts, the recruiter mass
recruitment, and the administrator all of them and the access log. A person with no known group
is there too, to see a member of staff who may open no process.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StaffPerson:
    key: str  # the picker's handle
    subject: str  # the provider's stable id (``sub``), like Keycloak's user id
    given_name: str
    family_name: str
    email: str
    groups: tuple[str, ...]
    title: dict[str, str]  # the job title in fi/sv/en, shown on the picker

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def claims(self) -> dict[str, object]:
        """What the ID token and userinfo say about the person (besides the protocol's own claims)."""
        return {
            "sub": self.subject,
            "name": self.name,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "preferred_username": self.key,
            "email": self.email,
            "email_verified": True,
            "groups": list(self.groups),
        }


STAFF: dict[str, StaffPerson] = {
    person.key: person
    for person in (
        StaffPerson(
            "kaisa",
            "7c1e0f52-3b7a-4c55-9a1d-2f6e8b1c0a01",
            "Kaisa",
            "Lindholm",
            "kaisa.lindholm@kaupunki.example",
            ("kirjasto",),
            {"fi": "kirjastonhoitaja", "sv": "bibliotekarie", "en": "librarian"},
        ),
        StaffPerson(
            "harri",
            "7c1e0f52-3b7a-4c55-9a1d-2f6e8b1c0a02",
            "Harri",
            "Virtanen",
            "harri.virtanen@kaupunki.example",
            ("henkilostopalvelut",),
            {"fi": "HR-asiantuntija", "sv": "HR-specialist", "en": "HR officer"},
        ),
        StaffPerson(
            "riikka",
            "7c1e0f52-3b7a-4c55-9a1d-2f6e8b1c0a03",
            "Riikka",
            "Salo",
            "riikka.salo@kaupunki.example",
            ("rekrytointi",),
            {"fi": "rekrytoija", "sv": "rekryterare", "en": "recruiter"},
        ),
        StaffPerson(
            "antti",
            "7c1e0f52-3b7a-4c55-9a1d-2f6e8b1c0a04",
            "Antti",
            "Koskinen",
            "antti.koskinen@kaupunki.example",
            ("kuntaflow-admin", "kirjasto"),
            {"fi": "Kuntaflow-ylläpitäjä", "sv": "Kuntaflow-administratör", "en": "Kuntaflow administrator"},
        ),
        StaffPerson(
            "olli",
            "7c1e0f52-3b7a-4c55-9a1d-2f6e8b1c0a05",
            "Olli",
            "Nieminen",
            "olli.nieminen@kaupunki.example",
            ("opetus",),
            {"fi": "opettaja (ei Kuntaflow-roolia)", "sv": "lärare (ingen Kuntaflow-roll)", "en": "teacher (no Kuntaflow role)"},
        ),
    )
}
