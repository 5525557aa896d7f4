"""The Koha sandbox on its own: Koha's query language, paging, validator errors and rules, over raw HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.routing import Mount

from connectors.koha.sandbox import create_app
from connectors.koha.sandbox.seed import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from schemas import hetu_key
from schemas.redaction import HETU_PATTERN

SALT = SecretStr("sandbox-test-salt")


@pytest.fixture
def app():
    return create_app(salt=SALT, faults=FaultSpec())


@pytest.fixture
def koha(app) -> Iterator[httpx.Client]:
    with httpx.Client(base_url="http://koha.test/api/v1", transport=SyncASGITransport(app)) as client:
        token = client.post(
            "/oauth/token", data={"grant_type": "client_credentials", "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET}
        ).json()
        assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        yield client


def surnames(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [patron["surname"] for patron in response.json()]


def test_field_parameters_match_case_insensitively_and_contain_by_default(koha):
    assert surnames(koha.get("/patrons", params={"surname": "KORH"})) == ["Korhonen", "Korhonen"]
    assert surnames(koha.get("/patrons", params={"surname": "korh", "_match": "exact"})) == []
    assert surnames(koha.get("/patrons", params={"surname": "nen", "_match": "ends_with", "firstname": "NO"})) == ["Virtanen"]


def test_json_queries_and_or_and_operators(koha):
    q = {"surname": ["Virtanen", "Nieminen"]}
    assert sorted(surnames(koha.get("/patrons", params={"q": json.dumps(q)}))) == ["Nieminen", "Virtanen"]
    q = {"surname": {"-like": "Kor%"}, "date_of_birth": {"<": "2000-01-01"}}
    assert [p["firstname"] for p in koha.get("/patrons", params={"q": json.dumps(q)}).json()] == ["Mikko"]
    assert surnames(koha.get("/patrons", headers={"x-koha-query": json.dumps({"firstname": "Laura"})})) == ["Nieminen"]


def test_queries_on_attributes_join_like_sql_and_need_the_embed(koha):
    key = hetu_key("150385-9046", SALT)
    q = json.dumps({"extended_attributes.code": "SOTU", "extended_attributes.attribute": key})
    found = koha.get("/patrons", params={"q": q}, headers={"x-koha-embed": "extended_attributes"}).json()
    assert [p["surname"] for p in found] == ["Virtanen"] and found[0]["extended_attributes"][0]["value"] == key
    # Code from one attribute row and value from another must not match together.
    q = json.dumps({"extended_attributes.code": "TAKAAJA", "extended_attributes.attribute": key})
    assert koha.get("/patrons", params={"q": q}, headers={"x-koha-embed": "extended_attributes"}).json() == []
    response = koha.get("/patrons", params={"q": q})
    assert response.status_code == 400 and response.json()["error_code"] == "invalid_query"


def test_the_attribute_and_unique_key_indexes_follow_every_change(koha):
    """The store indexes attribute values, card numbers and user ids; searches and 409s must follow edits and deletes."""
    embed = {"x-koha-embed": "extended_attributes"}

    def holders(value: str) -> list[int]:
        q = json.dumps({"extended_attributes.code": "SOTU", "extended_attributes.attribute": value})
        return [p["patron_id"] for p in koha.get("/patrons", params={"q": q}, headers=embed).json()]

    base = {"surname": "Indeksi", "library_id": "JYVPK", "category_id": "HENKILO"}
    first = koha.post("/patrons", json=base | {"firstname": "Eka", "extended_attributes": [{"type": "SOTU", "value": "Key-One"}]}).json()
    assert holders("key-one") == [first["patron_id"]]  # text matches case-insensitively, as a scan did
    [attribute] = koha.get(f"/patrons/{first['patron_id']}/extended_attributes").json()
    assert koha.patch(f"/patrons/{first['patron_id']}/extended_attributes/{attribute['extended_attribute_id']}", json={"value": "key-two"}).status_code == 200
    assert holders("Key-One") == [] and holders("key-two") == [first["patron_id"]]
    clash = koha.post("/patrons", json=base | {"firstname": "Toka", "extended_attributes": [{"type": "SOTU", "value": "key-two"}]})
    assert clash.status_code == 400 and clash.json()["error_code"] == "attribute_not_unique"
    second = koha.post("/patrons", json=base | {"firstname": "Toka", "extended_attributes": [{"type": "SOTU", "value": "key-three"}]}).json()
    assert int(second["cardnumber"]) == int(first["cardnumber"]) + 1
    renamed = koha.put(f"/patrons/{first['patron_id']}", json=base | {"firstname": "Eka", "userid": "uusi.tunnus"})
    assert renamed.status_code == 200
    taken = koha.put(f"/patrons/{second['patron_id']}", json=base | {"firstname": "Toka", "userid": "uusi.tunnus"})
    assert (taken.status_code, taken.json()) == (409, {"error": "Duplicate ID", "conflict": "userid"})
    third = koha.post("/patrons", json=base | {"firstname": "Eka"}).json()
    assert third["userid"] == "eka.indeksi"  # the old user id is free again
    assert koha.delete(f"/patrons/{second['patron_id']}").status_code == 204
    assert holders("key-three") == []
    assert koha.delete(f"/patrons/{third['patron_id']}").status_code == 204
    again = koha.post("/patrons", json=base | {"firstname": "Kolmas"}).json()
    # Both newer patrons gone: the next card number is the highest left + 1, as in Koha.
    assert again["cardnumber"] == second["cardnumber"] == str(int(first["cardnumber"]) + 1)


def test_paging_headers_follow_koha(koha):
    response = koha.get("/patrons", params={"_per_page": 2, "_page": 1, "_order_by": "-patron_id"})
    assert [p["patron_id"] for p in response.json()] == [4, 3]
    assert response.headers["X-Total-Count"] == "4" and response.headers["X-Base-Total-Count"] == "4"
    assert 'rel="next"' in response.headers["Link"] and 'rel="prev"' not in response.headers["Link"]
    assert len(koha.get("/patrons", params={"_per_page": -1}).json()) == 4


def test_schema_errors_have_the_openapi_validator_shape(koha):
    response = koha.post("/patrons", json={"library_id": "JYVPK", "category_id": "HENKILO", "gender": "FM", "shoe_size": 44})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    messages = {e["path"]: e["message"] for e in body["errors"]}
    assert messages == {"/body/surname": "Missing property.", "/body/gender": "String is too long: 2/1.", "/body": "Properties not allowed: shoe_size."}


def test_koha_rules_on_create(koha, app):
    base = {"surname": "Uusi", "library_id": "JYVPK", "category_id": "HENKILO"}
    created = koha.post("/patrons", json=base | {"firstname": "Äijä"})
    assert created.status_code == 201 and created.headers["Location"].endswith(f"/patrons/{created.json()['patron_id']}")
    assert created.json()["userid"] == "aija.uusi" and created.json()["cardnumber"] == "2400000005"
    assert koha.post("/patrons", json=base | {"firstname": "Äijä"}).json()["userid"] == "aija.uusi1"
    assert koha.post("/patrons", json=base | {"category_id": "NOPE"}).json() == {"error": "Given category_id does not exist"}
    duplicate = koha.post("/patrons", json=base | {"cardnumber": "2400000001"})
    assert (duplicate.status_code, duplicate.json()) == (409, {"error": "Duplicate ID", "conflict": "cardnumber"})
    orphan = koha.post("/patrons", json=base | {"category_id": "LAPSI"})
    assert orphan.status_code == 500 and orphan.json()["error_code"] == "internal_server_error"
    child_as_guarantor = koha.post("/patrons", json=base | {"category_id": "LAPSI", "extended_attributes": [{"type": "TAKAAJA", "value": "3"}]})
    assert child_as_guarantor.status_code == 400


def test_a_guarantor_cannot_be_deleted_while_a_child_links_to_them(koha):
    response = koha.delete("/patrons/2")
    assert response.status_code == 409 and response.json()["error_code"] == "has_guarantees"
    assert koha.delete("/patrons/3").status_code == 204
    assert koha.delete("/patrons/2").status_code == 204
    assert koha.get("/patrons/2").status_code == 404


def test_tokens_and_credentials(app):
    with httpx.Client(base_url="http://koha.test/api/v1", transport=SyncASGITransport(app)) as raw:
        assert raw.get("/patrons/1").status_code == 401
        assert raw.get("/patrons/1", headers={"Authorization": "Bearer made-up"}).status_code == 401
        assert raw.post("/oauth/token", data={"grant_type": "password"}).json() == {"error": "Unimplemented grant type"}
        assert raw.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}).status_code == 403
        header = httpx.BasicAuth(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
        assert raw.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=header).status_code == 200


def test_expired_tokens_stop_working(app, koha):
    store = app.state.store
    now = [1000.0]
    store.clock = lambda: now[0]
    token = store.issue_token(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)["access_token"]
    assert koha.get("/patrons/1", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    now[0] += 3600
    assert koha.get("/patrons/1", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_faults_target_paths_inside_a_mounted_sandbox(app):
    root = Starlette(routes=[Mount("/koha", app=app)])
    app.state.faults.fail_next(1, path_prefix="/api/v1/patrons")
    with httpx.Client(base_url="http://all.test/koha/api/v1", transport=SyncASGITransport(root)) as raw:
        assert raw.get("/patrons/1").status_code == 503
        assert raw.get("/patrons/1").status_code == 401
    assert [f.path for f in app.state.faults.injected] == ["/api/v1/patrons/1"]


def test_the_seed_keeps_no_hetu(app):
    store = app.state.store
    text = repr(store.patrons) + repr(store.attributes)
    assert all(hetu not in text for hetu in ("150385-9046", "070779-912Y", "120318A916B"))


def test_pages_for_people_show_libraries_categories_and_patrons_without_hetus_or_keys(app):
    with httpx.Client(transport=SyncASGITransport(Starlette(routes=[Mount("/koha", app)])), base_url="http://127.0.0.1:8080") as browser:
        index = browser.get("/koha/_sandbox/")
        assert index.status_code == 200 and '<html lang="fi">' in index.text and "<script" not in index.text
        assert "Jyväskylän kaupunginkirjasto – pääkirjasto" in index.text and "<code>LAPSI</code>" in index.text
        assert 'href="http://127.0.0.1:8080/koha/_sandbox/patrons"' in index.text and 'href="http://127.0.0.1:8080/koha/docs"' in index.text
        patrons = browser.get("/koha/_sandbox/patrons").text
        assert "Aino Virtanen" in patrons and "Laura Nieminen" in patrons and "(4)" in patrons
        eetu = patrons[patrons.index("Eetu Korhonen") :].split("</tr>")[0]
        assert "#2" in eetu and "✓" in eetu  # guarantor Mikko, and a hetu key
        assert HETU_PATTERN.search(patrons) is None and hetu_key("150385-9046", SALT) not in patrons


def test_the_connector_defaults_to_koha_on_the_all_sandboxes_server(monkeypatch):
    from connectors.koha import KohaSettings
    from connectors.koha.sandbox import client_environment

    monkeypatch.delenv("KUNTAFLOW_KOHA_BASE_URL", raising=False)
    assert KohaSettings().base_url == client_environment("http://127.0.0.1:8080/koha")["KUNTAFLOW_KOHA_BASE_URL"]
