"""A browser without JavaScript, for sample citizens: follows redirects, keeps cookies, submits forms.

It reads each page's own forms (action, hidden fields, checked radios, selected options) and
sends them back with the fields a person would fill in, so the e-service and the sandbox IdP are
driven through exactly the HTML a citizen gets: no shortcuts into their internals.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html


class PageError(RuntimeError):
    """The page was not what a citizen would expect (no such form, an error status)."""


@dataclass
class Page:
    url: str
    status_code: int
    text: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def form(self, action_suffix: str) -> lxml.html.FormElement:
        """The page's form whose action ends with ``action_suffix``.

        Raises:
            PageError: the page has no such form.
        """
        document = lxml.html.fromstring(self.text, base_url=self.url)
        actions = [urlsplit(form.get("action") or "").path for form in document.forms]
        for form, action in zip(document.forms, actions, strict=True):
            if action.endswith(action_suffix):
                return form
        raise PageError(f"{self.path} ({self.status_code}) has no form posting to …{action_suffix} (its forms post to {actions or 'nothing'})")

    def choices(self, radio_name: str, action_suffix: str) -> dict[str, str]:
        """A radio group's values with the text of their labels."""
        form = self.form(action_suffix)
        labels = {label.get("for"): " ".join(label.text_content().split()) for label in form.iter("label")}
        return {radio.get("value"): labels.get(radio.get("id"), "") for radio in form.inputs[radio_name]}

    def options(self, select_name: str, action_suffix: str) -> list[str]:
        """The non-empty option values of a ``<select>`` in a form."""
        form = self.form(action_suffix)
        return [value for value in form.inputs[select_name].value_options if value]


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every browser of the process: building one loads the CA bundle (~20 ms of
    CPU), which a load generator starting ten citizens a second would otherwise pay for each."""
    return ssl.create_default_context()


class Browser:
    """One citizen's browser (an ``httpx.Client`` with a cookie jar)."""

    def __init__(self, timeout: float = 60) -> None:
        self.client = httpx.Client(follow_redirects=True, timeout=timeout, headers={"Accept-Language": "fi"}, verify=_tls())

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, url: str) -> Page:
        return self._page(self.client.get(url))

    def submit(self, page: Page, action_suffix: str, fields: Mapping[str, str] | None = None) -> Page:
        """Fill in ``fields`` over the form's own values and submit it as the browser would."""
        form = page.form(action_suffix)
        values = dict(form.form_values())
        values.update(fields or {})
        action = urljoin(page.url, form.get("action") or page.url)
        if (form.get("method") or "get").lower() == "post":
            return self._page(self.client.post(action, data=values))
        return self._page(self.client.get(action, params=values))

    @staticmethod
    def _page(response: httpx.Response) -> Page:
        if response.status_code >= 500:
            raise PageError(f"{response.request.method} {response.url.path} answered {response.status_code}")
        return Page(str(response.url), response.status_code, response.text)
