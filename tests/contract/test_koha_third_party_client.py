"""A Koha client nobody here wrote, replayed against the Koha sandbox and checked against Koha's spec.

VuFind's Koha REST driver (maintained by the National Library of Finland, used by Finnish library
catalogues) is PHP, so it runs here as a recorded sequence of its requests, taken from
``vufind-org/vufind`` @ 00c1214cd1311759b6497099efeb8620e1542677,
``module/VuFind/src/VuFind/ILS/Driver/KohaRest.php`` (makeRequest, getOAuth2Token, patronLogin with
``dontValidatePasswords``, getMyProfile, getLibraries) and ``OAuth2TokenTrait.php`` @
0b44211d1c757aa296b4cb8d0037757ce814f113 (getNewOAuth2Token). Its ``host`` setting is Koha's ``/api``
root; every request carries ``Accept: application/json`` and ``User-Agent: VuFind``, and the
Authorization header is ``"<token_type> <access_token>"`` from the token answer. On a 401 it fetches
a new token and sends the request once more.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr
from test_koha_contract import ADDITIONS, SPEC

from connectors.koha.sandbox import create_app
from connectors.koha.sandbox.seed import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from connectors.sandbox_support import SyncASGITransport

HOST = "http://koha.test/api"


class VuFindKohaRest:
    """The driver's requests, in its order and shapes (see the module docstring)."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self.http = httpx.Client(transport=transport, headers={"Accept": "application/json", "User-Agent": "VuFind"})
        self.token: str | None = None

    def oauth2_token(self) -> str:
        # getNewOAuth2Token: form POST, client id and secret in the body (useHttpBasic false).
        answer = self.http.post(
            f"{HOST}/v1/oauth/token",
            data={"grant_type": "client_credentials", "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert answer.status_code == 200, answer.text
        data = answer.json()
        assert data.get("token_type") and data.get("access_token")  # "Did not receive OAuth2 token" otherwise
        return f"{data['token_type']} {data['access_token']}"

    def request(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        # makeRequest: the cached token; on a 401 a new one and the request again.
        self.token = self.token or self.oauth2_token()
        answer = self.http.get(f"{HOST}/{path}", params=params, headers={"Authorization": self.token})
        if answer.status_code == 401:
            self.token = self.oauth2_token()
            answer = self.http.get(f"{HOST}/{path}", params=params, headers={"Authorization": self.token})
        return answer

    def patron_login(self, username: str) -> dict[str, object] | None:
        answer = self.request("v1/patrons", {"userid": username, "_match": "exact"})
        data = answer.json()
        if not data:
            return None
        first = data[0]
        return {
            "id": first["patron_id"],
            "firstname": first["firstname"],
            "lastname": first["surname"],
            "email": first["email"],
            "home_library": first["library_id"],
        }

    def my_profile(self, patron_id: object) -> dict[str, object]:
        answer = self.request(f"v1/patrons/{patron_id}")
        assert answer.status_code == 200, answer.text
        result = answer.json()
        keys = ("firstname", "surname", "phone", "mobile", "email", "address", "address2", "postal_code", "city", "country", "expiry_date")
        return {key: result[key] for key in keys}  # read without defaults, as the driver does

    def libraries(self) -> dict[str, dict[str, object]]:
        answer = self.request("v1/libraries", {"_per_page": "-1"})
        return {library["library_id"]: library for library in answer.json()}


def test_vufinds_koha_driver_logs_a_patron_in_reads_the_profile_and_every_library(openapi_contract, recording_transport):
    app = create_app(salt=SecretStr("vufind-salt"))
    recorder = recording_transport(SyncASGITransport(app))
    vufind = VuFindKohaRest(recorder)

    patron = vufind.patron_login("aino.virtanen")
    assert patron is not None and (patron["firstname"], patron["lastname"], patron["home_library"]) == ("Aino", "Virtanen", "JYVPK")
    assert vufind.patron_login("nobody.here") is None
    app.state.store.revoke_tokens()  # the cached token expires: a 401, a new token, the request again
    profile = vufind.my_profile(patron["id"])
    assert profile["surname"] == "Virtanen" and "phone" in profile
    libraries = vufind.libraries()
    assert len(libraries) == len(app.state.store.libraries) and "JYVPK" in libraries  # _per_page=-1: all in one answer

    report = openapi_contract(SPEC, additions=ADDITIONS).check(recorder.exchanges)
    assert report.violations == [] and report.uncovered == [], report.violations + report.uncovered
    statuses = [exchange.response.status_code for exchange in recorder.exchanges]
    assert statuses.count(401) == 1 and len(report.checked) == len(recorder.exchanges)
