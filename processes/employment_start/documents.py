"""What the employment start writes for people: the orientation plan workbook and the two e-mails' texts.

All of it is Finnish, for the new employee and the supervisor. The texts read only the case's
employee and its checkpoints, so a retry writes the same words.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from RPA.Excel.Files import Files

from processes.employment_start.checkpoints import EmploymentCreated
from processes.employment_start.orientation import OrientationTask

if TYPE_CHECKING:
    from processes.employment_start.service import EmploymentStartCase

#: Finnish names of the requests, for the supervisor's checklist.
REQUEST_NAMES: dict[str, str] = {
    "it_account": "Käyttäjätunnus, sähköposti ja käyttöoikeudet",
    "access_card": "Kulkukortti",
    "keys": "Avaimet",
    "equipment": "Laitteet",
}
EQUIPMENT_NAMES = {"laptop": "kannettava tietokone", "phone": "työpuhelin"}


def write_plan_workbook(path: Path, case: EmploymentStartCase, tasks: list[OrientationTask]) -> None:
    """The plan as an .xlsx through rpaframework's ``RPA.Excel.Files``: a task sheet and a facts sheet."""
    employee, facts = case.employee, case.facts
    path.parent.mkdir(parents=True, exist_ok=True)
    excel = Files()
    excel.create_workbook(str(path), fmt="xlsx", sheet_name="Perehdytys")
    rows = [{"Vaihe": t.phase.value, "Tehtävä": t.topic, "Vastuuhenkilö": t.owner.value, "Määräpäivä": t.due, "Tehty": ""} for t in tasks]
    excel.append_rows_to_worksheet(rows, name="Perehdytys", header=True)
    excel.set_styles("A1:E1", bold=True, cell_fill="DDEBF7")
    excel.set_styles(f"D2:D{len(rows) + 1}", number_format="d.m.yyyy")
    excel.auto_size_columns("A", "E")
    excel.create_worksheet(
        "Tiedot",
        content=[
            {"Tieto": "Työntekijä", "Arvo": employee.full_name},
            {"Tieto": "Tehtävänimike", "Arvo": employee.title},
            {"Tieto": "Yksikkö", "Arvo": facts.unit_name},
            {"Tieto": "Aloituspäivä", "Arvo": employee.start_date},
            {"Tieto": "Esihenkilö", "Arvo": facts.supervisor_name},
            {"Tieto": "Työpaikan osoite", "Arvo": employee.workplace_address},
            {"Tieto": "Kuntaflow-työ", "Arvo": case.item_id},
        ],
        header=True,
    )
    excel.save_workbook()
    excel.close_workbook()


def welcome_text(case: EmploymentStartCase) -> str:
    employee, facts = case.employee, case.facts
    bring = ["verokortti (palkanlaskentaan)", "tilinumerosi perustietoilmoitusta varten", "työ- ja tutkintotodistukset"]
    if employee.profession is not None:
        bring.append("Valviran rekisteröintinumerosi ja rokotustodistukset")
    lines = [
        f"Hei {employee.calling_name},",
        "",
        f"tervetuloa töihin: {employee.title}, {facts.unit_name}.",
        "",
        f"Aloituspäiväsi on {employee.start_date:%d.%m.%Y}.",
        f"Tule paikalle osoitteeseen {employee.workplace_address}.",
        f"Yhteyshenkilösi on esihenkilösi {facts.supervisor_name} ({facts.supervisor_email}).",
        "",
        "Ota mukaan ensimmäisenä päivänä:",
        *[f"- {thing}" for thing in bring],
        "",
        "Käyttäjätunnukset, kulkukortti ja työvälineet ovat valmiina, kun tulet.",
        "",
        "Ystävällisin terveisin",
        "Henkilöstöpalvelut",
    ]
    return "\n".join(lines)


def checklist_text(case: EmploymentStartCase, link: str) -> str:
    employee = case.employee
    employment = case.checkpoints.get(EmploymentCreated)
    assert employment is not None  # the checklist goes out after the employment is registered
    requests = [f"- {REQUEST_NAMES[request.kind]}: pyyntö {request.ticket_id}, valmis viimeistään {request.due_date:%d.%m.%Y}" for request in case.requests()]
    clothes = [f"- {name}: tilaa yksikön kautta" for wanted, name in ((employee.work_clothes, "Työvaatteet"), (employee.name_badge, "Nimikyltti")) if wanted]
    lines = [
        f"Hei {case.facts.supervisor_name},",
        "",
        f"{employee.full_name} aloittaa {employee.start_date:%d.%m.%Y} tehtävässä {employee.title}.",
        f"Palvelussuhde on kirjattu HR:ään (numero {employment.employment_id}).",
        "",
        "Tilaukset palvelupisteeseen:",
        *(requests or ["- ei tilauksia"]),
        *clothes,
        "",
        "Esihenkilön tarkistuslista:",
        "- nimeä perehdyttäjä ja tarkista liitteenä oleva perehdytyssuunnitelma",
        "- suunnittele ensimmäinen päivä ja varaa aikaa vastaanottoon",
        "- työturvallisuus- ja tietosuojaperehdytys ensimmäisen viikon aikana",
        "",
        "Vahvista, että suunnitelma ja tilaukset on tarkistettu (kertakäyttöinen linkki):",
        link,
        "",
        f"Kuntaflow, työ {case.item_id}",
    ]
    return "\n".join(lines)
