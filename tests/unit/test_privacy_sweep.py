"""The privacy sweep finds a henkilötunnus wherever Kuntaflow could have written one, and says where, not what."""

from __future__ import annotations

import gzip
import io
import zipfile
from urllib.parse import quote

import openpyxl

from kuntaflow.privacy_sweep import sweep
from schemas.hetu import check_character

HETU = f"150390-955{check_character('150390955')}"
PLUS_HETU = f"150390+955{check_character('150390955')}"


def test_every_place_a_code_can_hide_is_found_and_the_finding_never_shows_it(tmp_path):
    (tmp_path / "log.txt").write_text(f"2026-12-02 robot: applicant {HETU} done\n")
    (tmp_path / "payload.json").write_text(f'{{"hetu": "{HETU}"}}')
    book = openpyxl.Workbook()
    book.active["A1"] = HETU  # compressed inside the .xlsx zip: invisible to a plain byte scan
    book.save(tmp_path / "report.xlsx")
    (tmp_path / "old.log.gz").write_bytes(gzip.compress(f"hetu={HETU}".encode()))
    (tmp_path / "access.log").write_text(f"GET /status?who={quote(PLUS_HETU, safe='')} 200\n")
    (tmp_path / "clean.txt").write_text("nothing personal here: 150390-955 is not a whole code\n")
    findings = sweep(tmp_path, known=[PLUS_HETU])
    where = {(f.path.name, f.member) for f in findings}
    assert where == {("log.txt", None), ("payload.json", None), ("report.xlsx", "xl/worksheets/sheet1.xml"), ("old.log.gz", "gzip"), ("access.log", None)}
    assert all(HETU not in str(f) and PLUS_HETU not in str(f) for f in findings)
    assert [f.known for f in findings if f.path.name == "access.log"] == [True]  # only the known code's URL spelling


def test_a_uuid_that_happens_to_have_the_shape_is_not_a_finding(tmp_path):
    # "…df151111-7674-4ce5…": six digits, '-', three digits and a character whose check happens to be right.
    uuid_like = f"01a235be-8188-71d7-91e9-cd9efa96870bdf151111-767{check_character('151111767')}-4ce5-8a1c-36c49ab5a"
    (tmp_path / "prefect.db").write_bytes(b"\x00\x01" + uuid_like.encode() + b"\x00")
    assert sweep(tmp_path) == []
    (tmp_path / "prefect.db").write_bytes(b"\x00\x01 " + f"151111-767{check_character('151111767')}".encode() + b"\x00")
    assert len(sweep(tmp_path)) == 1


def test_a_zip_member_and_a_broken_zip_are_read_without_failing(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("letters/decision.txt", f"Päätös: {HETU}")
    (tmp_path / "letters.zip").write_bytes(buffer.getvalue())
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    assert [(f.path.name, f.member) for f in sweep(tmp_path)] == [("letters.zip", "letters/decision.txt")]
