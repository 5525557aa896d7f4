"""KohaClient against the Koha sandbox in-process: happy paths, every error class, retries, idempotency."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import stamina
from pydantic import SecretStr, ValidationError

from connectors.errors import BusinessRuleError, IntegrationError, TransientError
from connectors.http import RetryPolicy
from connectors.koha import (
    AmbiguousPatronError,
    DuplicatePatronError,
    ExtendedAttributeIn,
    GuarantorLink,
    KohaAuthenticationError,
    KohaClient,
    KohaRejectedError,
    KohaSettings,
    KohaUnavailableError,
    MissingGuarantorError,
    PatronCreate,
    PatronNotFoundError,
)
from connectors.koha.sandbox import create_app
from connectors.koha.sandbox.seed import SANDBOX_LIMITED_CLIENT_ID, SANDBOX_LIMITED_CLIENT_SECRET, SANDBOX_STAFF_PASSWORD, SANDBOX_STAFF_USER
from connectors.sandbox_support import FaultSpec, SyncASGITransport
from schemas import hetu_key

SALT = SecretStr("koha-test-salt")
SEEDED_HETU = "150385-9046"  # Aino Virtanen in the sandbox seed
NEW_HETU = "210281-9988"
BASE = "http://koha.test/api/v1"


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


@pytest.fixture
def app():
    return create_app(salt=SALT, faults=FaultSpec())


@pytest.fixture
def store(app):
    return app.state.store


def make_client(app, **settings) -> KohaClient:
    settings.setdefault("base_url", BASE)
    return KohaClient(KohaSettings(**settings), transport=SyncASGITransport(app), retry=RetryPolicy(attempts=3))


@pytest.fixture
def koha(app) -> Iterator[KohaClient]:
    with make_client(app) as client:
        yield client


def adult(**fields) -> PatronCreate:
    values = {"surname": "Testinen", "firstname": "Teppo", "library_id": "JYVPK", "category_id": "HENKILO", "date_of_birth": "1981-02-21"}
    return PatronCreate(**(values | fields))


# ------------------------------------------------------------------------------- happy paths


def test_finds_a_seeded_patron_by_hetu_key(koha):
    patron = koha.find_patron_by_hetu_key(hetu_key(SEEDED_HETU, SALT))
    assert patron is not None and (patron.surname, patron.firstname) == ("Virtanen", "Aino")
    assert patron.attribute_values("SOTU") == [hetu_key(SEEDED_HETU, SALT)]


def test_lists_the_patrons_whose_card_expires_in_a_date_range_with_their_guarantor_link(koha, store):
    today = store.today()
    expiring = koha.list_patrons_expiring(today, today + timedelta(days=30))
    # The sandbox's Eetu (12 days, guarantor Mikko) and Laura (20 days); Aino's and Mikko's cards are new.
    assert sorted((p.firstname, (p.expiry_date - today).days) for p in expiring) == [("Eetu", 12), ("Laura", 20)]
    [eetu] = [p for p in expiring if p.firstname == "Eetu"]
    [mikko] = [p for p in store.patrons.values() if p["firstname"] == "Mikko"]
    assert eetu.attribute_values(koha.settings.guarantor_attribute) == [str(mikko["patron_id"])]
    assert koha.list_patrons_expiring(today, today + timedelta(days=11)) == []


def test_an_unknown_hetu_key_finds_nobody(koha):
    assert koha.find_patron_by_hetu_key(hetu_key(NEW_HETU, SALT)) is None


def test_creates_a_patron_keyed_by_hetu_and_finds_it_again(koha, store):
    key = hetu_key(NEW_HETU, SALT)
    created = koha.create_patron(adult(email="teppo@example.org", mobile="+358 40 765 4321"), hetu_key=key)
    assert created.patron_id > 0 and created.cardnumber and created.userid == "teppo.testinen"
    assert created.expiry_date is not None and created.date_enrolled is not None
    assert koha.find_patron_by_hetu_key(key).patron_id == created.patron_id
    record = store.patrons[created.patron_id]
    assert record["mobile"] == "+358407654321"
    assert NEW_HETU not in repr(store.patrons) + repr(store.attributes)


def test_a_child_is_created_with_its_guarantor(koha, store):
    guardian = koha.create_patron(adult(), hetu_key=hetu_key(NEW_HETU, SALT))
    child = koha.create_patron(
        PatronCreate(surname="Testinen", firstname="Tiina", library_id="JYVPK", category_id="LAPSI", date_of_birth="2016-05-04"),
        guarantor=GuarantorLink(guarantor_id=guardian.patron_id),
    )
    fetched = koha.get_patron(child.patron_id)
    assert fetched.relationship_type == "huoltaja"
    assert fetched.attribute_values("TAKAAJA") == [str(guardian.patron_id)]


def test_a_child_without_a_guarantor_is_a_business_case_not_an_outage(koha, store):
    before = len(store.patrons)
    with pytest.raises(MissingGuarantorError):
        koha.create_patron(PatronCreate(surname="Yksin", library_id="JYVPK", category_id="LAPSI"))
    assert len(store.patrons) == before


def test_adding_a_guarantor_to_an_existing_child_is_idempotent(koha, store):
    seeded_parent = koha.find_patron_by_cardnumber("2400000002")
    other = koha.create_patron(adult(surname="Toinen"))
    child_id = 3  # Eetu Korhonen, seeded with his father as guarantor
    once = koha.add_guarantor(child_id, GuarantorLink(guarantor_id=other.patron_id, relationship="huoltaja"))
    twice = koha.add_guarantor(child_id, GuarantorLink(guarantor_id=other.patron_id, relationship="huoltaja"))
    assert sorted(once.attribute_values("TAKAAJA")) == sorted([str(seeded_parent.patron_id), str(other.patron_id)])
    assert twice.attribute_values("TAKAAJA") == once.attribute_values("TAKAAJA")


def test_adding_a_missing_guarantor_is_not_found(koha):
    with pytest.raises(PatronNotFoundError):
        koha.add_guarantor(3, GuarantorLink(guarantor_id=99999))


def test_sets_the_pin(koha, store):
    patron = koha.create_patron(adult())
    koha.set_password(patron.patron_id, SecretStr("4321"))
    assert store.check_password(patron.patron_id, "4321")
    with pytest.raises(KohaRejectedError, match="shorter than required"):
        koha.set_password(patron.patron_id, SecretStr("12"))


def test_lists_libraries_across_pages_and_categories(app):
    with make_client(app, page_size=2) as koha:
        libraries = koha.list_libraries()
        categories = {c.patron_category_id: c for c in koha.list_patron_categories()}
    assert len(libraries) == len(app.state.store.libraries) == 7
    assert {library.library_id for library in libraries} >= {"JYVPK", "AANPK", "PIHPK"}
    assert categories["LAPSI"].is_child and categories["LAPSI"].upper_age_limit == 15
    assert not categories["HENKILO"].is_child


def test_more_categories_than_koha_sends_in_one_answer_is_an_error_not_a_short_list(app):
    """GET /patron_categories declares no paging: Koha sends RESTdefaultPageSize (20) whatever is asked."""
    for number in range(25):
        app.state.store.categories[f"C{number:02d}"] = {**app.state.store.categories["HENKILO"], "patron_category_id": f"C{number:02d}"}
    with make_client(app, page_size=5) as koha, pytest.raises(IntegrationError) as truncated:
        koha.list_patron_categories()
    assert truncated.value.code == "CATEGORIES_TRUNCATED" and "of 27" in str(truncated.value)


def test_extended_attributes_can_be_added_listed_and_replaced(koha):
    patron = koha.create_patron(adult(), hetu_key=hetu_key(NEW_HETU, SALT))
    koha.add_extended_attribute(patron.patron_id, ExtendedAttributeIn(type="TAKAAJA", value="1"))
    assert {a.type for a in koha.list_extended_attributes(patron.patron_id)} == {"SOTU", "TAKAAJA"}
    replaced = koha.set_extended_attributes(patron.patron_id, [ExtendedAttributeIn(type="SOTU", value=hetu_key(NEW_HETU, SALT))])
    assert [a.type for a in replaced] == ["SOTU"]


def test_basic_auth_works_too(app):
    with make_client(app, auth="basic", username=SANDBOX_STAFF_USER, password=SecretStr(SANDBOX_STAFF_PASSWORD)) as koha:
        assert koha.get_patron(1).surname == "Virtanen"


# ------------------------------------------------------------------------------- the raw hetu never goes to Koha


def test_a_hetu_where_a_key_belongs_is_refused_before_sending(koha, store):
    with pytest.raises(ValueError, match="never the henkilötunnus"):
        koha.find_patron_by_hetu_key(NEW_HETU)
    with pytest.raises(ValueError, match="never the henkilötunnus"):
        koha.create_patron(adult(), hetu_key=NEW_HETU)
    with pytest.raises(ValidationError, match="holds a henkilötunnus"):
        adult(staff_notes=f"hetu {NEW_HETU}")
    with pytest.raises(ValidationError, match="holds a henkilötunnus"):
        adult(extended_attributes=[ExtendedAttributeIn(type="SOTU", value=NEW_HETU)])


# ------------------------------------------------------------------------------- error classes


def test_an_unknown_library_is_rejected_with_kohas_reason(koha):
    with pytest.raises(KohaRejectedError) as raised:
        koha.create_patron(adult(library_id="NOWHERE"))
    assert raised.value.status_code == 400 and "Given library_id does not exist" in str(raised.value)
    assert isinstance(raised.value, IntegrationError)


def test_an_unknown_attribute_type_is_rejected_with_its_error_code(koha):
    with pytest.raises(KohaRejectedError) as raised:
        koha.add_extended_attribute(1, ExtendedAttributeIn(type="NOPE", value="x"))
    assert raised.value.code == "INVALID_ATTRIBUTE_TYPE"


def test_an_expired_token_is_refreshed_once(koha, store):
    koha.get_patron(1)
    store.revoke_tokens()
    assert koha.get_patron(1).patron_id == 1
    assert koha.auth.tokens_fetched == 2


def test_refused_client_credentials_are_an_authentication_error(app):
    with make_client(app, client_secret=SecretStr("wrong")) as koha, pytest.raises(KohaAuthenticationError) as raised:
        koha.get_patron(1)
    assert raised.value.status_code == 403


def test_a_wrong_basic_password_is_an_authentication_error(app):
    with make_client(app, auth="basic", username=SANDBOX_STAFF_USER, password=SecretStr("nope")) as koha, pytest.raises(KohaAuthenticationError) as raised:
        koha.get_patron(1)
    assert raised.value.code == "KOHA_UNAUTHORIZED"


def test_a_missing_permission_names_it(app):
    with (
        make_client(app, client_id=SANDBOX_LIMITED_CLIENT_ID, client_secret=SecretStr(SANDBOX_LIMITED_CLIENT_SECRET)) as koha,
        pytest.raises(KohaAuthenticationError) as raised,
    ):
        koha.get_patron(1)
    assert raised.value.code == "KOHA_FORBIDDEN"
    assert raised.value.required_permissions == {"borrowers": "edit_borrowers"}


def test_a_missing_patron_is_not_found(koha):
    with pytest.raises(PatronNotFoundError) as raised:
        koha.get_patron(424242)
    assert raised.value.status_code == 404 and raised.value.business_ids == {"patron_id": 424242}


@pytest.mark.parametrize("field", ["cardnumber", "userid"])
def test_a_duplicate_card_number_or_user_id_carries_the_existing_patron(koha, field):
    existing = koha.get_patron(1)
    with pytest.raises(DuplicatePatronError) as raised:
        koha.create_patron(adult(**{field: getattr(existing, field)}))
    error = raised.value
    assert (error.status_code, error.conflict, error.existing_patron_id) == (409, field, 1)
    assert isinstance(error, BusinessRuleError) and error.business_ids["existing_patron_id"] == 1


def test_creating_the_same_person_again_is_a_duplicate_with_the_existing_id(koha, store):
    key = hetu_key(NEW_HETU, SALT)
    first = koha.create_patron(adult(), hetu_key=key)
    with pytest.raises(DuplicatePatronError) as raised:
        koha.create_patron(adult(), hetu_key=key)
    assert raised.value.existing_patron_id == first.patron_id
    assert [a["patron_id"] for a in store.attributes.values() if a["value"] == key] == [first.patron_id]


def test_a_create_whose_answer_was_lost_is_resent_and_names_the_patron_it_made(app, koha, store):
    key = hetu_key(NEW_HETU, SALT)
    app.state.faults.fail_next(1, kind="lost_response", path_prefix="/api/v1/patrons")
    with pytest.raises(DuplicatePatronError) as raised:
        koha.create_patron(adult(), hetu_key=key)
    holders = [a["patron_id"] for a in store.attributes.values() if a["value"] == key]
    assert holders == [raised.value.existing_patron_id]
    assert [f.kind for f in app.state.faults.injected] == ["lost_response"]


def test_server_errors_are_retried_then_succeed(app, koha):
    app.state.faults.fail_next(2, kind="error", path_prefix="/api/v1/patrons")
    assert koha.get_patron(1).surname == "Virtanen"
    assert [f.kind for f in app.state.faults.injected] == ["error", "error"]


def test_server_errors_past_the_attempts_are_koha_unavailable(app, koha):
    app.state.faults.fail_next(5, kind="error", path_prefix="/api/v1/patrons")
    with pytest.raises(KohaUnavailableError) as raised:
        koha.get_patron(1)
    assert isinstance(raised.value, TransientError) and raised.value.status_code == 503
    assert len(app.state.faults.injected) == 3


def test_a_token_endpoint_outage_is_transient(app, koha):
    app.state.faults.fail_next(3, kind="error", path_prefix="/api/v1/oauth")
    with pytest.raises(KohaUnavailableError):
        koha.get_patron(1)


def test_several_patrons_with_one_key_need_a_person(app, koha, store):
    store.attribute_types["SOTU"].unique = False
    key = hetu_key(NEW_HETU, SALT)
    koha.create_patron(adult(cardnumber="9000000001"), hetu_key=key)
    koha.create_patron(adult(cardnumber="9000000002"), hetu_key=key)
    with pytest.raises(AmbiguousPatronError):
        koha.find_patron_by_hetu_key(key)


# ------------------------------------------------------------------------------- malformed answers


def scripted_koha(patron_answer: httpx.Response) -> KohaClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/token"):
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        return patron_answer

    return KohaClient(KohaSettings(base_url=BASE), transport=httpx.MockTransport(handler), retry=RetryPolicy(attempts=1))


def test_a_body_that_is_not_json_is_an_integration_error():
    with pytest.raises(IntegrationError) as raised:
        scripted_koha(httpx.Response(200, text="<html>Koha is upgrading</html>")).get_patron(1)
    assert raised.value.code == "INVALID_JSON"


def test_a_patron_without_its_id_is_an_integration_error():
    with pytest.raises(IntegrationError, match="patron_id: Field required") as raised:
        scripted_koha(httpx.Response(200, json={"surname": "X", "library_id": "A", "category_id": "B"})).get_patron(1)
    assert raised.value.code == "UNEXPECTED_RESPONSE"


def test_a_token_answer_without_a_token_is_an_authentication_error():
    client = KohaClient(KohaSettings(base_url=BASE), transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"token_type": "Bearer"})))
    with pytest.raises(KohaAuthenticationError, match="without a usable token"):
        client.get_patron(1)


def test_settings_need_credentials_for_the_chosen_auth():
    with pytest.raises(ValidationError, match="USERNAME"):
        KohaSettings(auth="basic")
    with pytest.raises(ValidationError, match="CLIENT_SECRET"):
        KohaSettings(client_secret=SecretStr(""))


# ------------------------------------------------------------------------------- over real TCP


def test_faults_look_the_same_to_the_client_over_a_real_server():
    """The in-process transport mimics uvicorn; check the same faults over a real socket."""
    from connectors.servers import serve_in_thread

    app = create_app(salt=SALT, faults=FaultSpec(hang_seconds=1))  # past the 0.3 s timeout; shutdown waits for it
    with serve_in_thread(app) as url:
        koha = KohaClient(KohaSettings(base_url=f"{url}/api/v1", timeout_seconds=0.3), retry=RetryPolicy(attempts=1))
        codes = []
        for kind in ("drop", "timeout", "error", "rate_limit"):
            app.state.faults.fail_next(1, kind=kind, path_prefix="/api/v1/patrons")
            with pytest.raises(KohaUnavailableError) as raised:
                koha.get_patron(1)
            codes.append(raised.value.code)
        assert codes == ["CONNECTION_DROPPED", "READ_TIMEOUT", "UNAVAILABLE", "RATE_LIMITED"]
        key = hetu_key(NEW_HETU, SALT)
        app.state.faults.fail_next(1, kind="lost_response", path_prefix="/api/v1/patrons")
        resending = KohaClient(KohaSettings(base_url=f"{url}/api/v1"), retry=RetryPolicy(attempts=2))
        with pytest.raises(DuplicatePatronError) as duplicate:
            resending.create_patron(adult(), hetu_key=key)
        assert koha.find_patron_by_hetu_key(key).patron_id == duplicate.value.existing_patron_id
