"""Browser steps in the Helbit-like recruiter web UI (rpaframework ``RPA.Browser.Selenium``).

The application form's answers are only in the UI's Excel export, so the robot logs in with a
headless Debian Chromium, opens the job and clicks "Vie hakijat Exceliin". Options follow
shared/reference/feasibility-browser.md: ``download=False`` (the driver from PATH, never a
download), no ``binary_location`` (rpaframework-core cannot read the version then), headless.
Every wait is an explicit wait on an element or on the downloaded file; a failed step takes a
screenshot into the robot's output directory and names it in the error. The password goes
straight from settings (SecretStr) to the password field: never a Robot variable, so never logged.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn

from connectors.errors import IntegrationError, TransientError
from connectors.helbit import HelbitSettings, check_job_key
from schemas.redaction import redact

CHROMIUM_ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1280,900",
]


@library(scope="GLOBAL", auto_keywords=False)
class HelbitRecruiterUI:
    """The recruiter UI, one short browser session per export."""

    def __init__(self, wait_seconds: float = 20.0) -> None:
        self.settings = HelbitSettings()
        self.wait_seconds = float(wait_seconds)

    @keyword("Export Applicants From Recruiter UI")
    def export_applicants_from_recruiter_ui(self, job_key: str) -> str:
        """Log in, open the job, export every applicant to Excel; return the downloaded file's path.

        Raises:
            TransientError: the UI did not answer or an element did not appear in time (retried later).
            IntegrationError: the login was refused, or the job is not in the UI.
        """
        from RPA.Browser.Selenium import Selenium  # noqa: PLC0415 (heavy: loaded only when the browser runs, not when a robot or dry run loads the library)

        key = check_job_key(job_key)
        output = Path(BuiltIn().get_variable_value("${OUTPUT DIR}"))
        downloads = output / "downloads" / key
        shutil.rmtree(downloads, ignore_errors=True)
        downloads.mkdir(parents=True)
        browser = Selenium(auto_close=False, timeout=self.wait_seconds, run_on_failure="Nothing")
        browser.set_download_directory(str(downloads))
        step = "open the login page"
        started = time.perf_counter()
        try:
            browser.open_available_browser(
                f"{self.settings.base_url}/ui/login",
                browser_selection="Chrome",
                download=False,
                headless=True,
                options={"arguments": CHROMIUM_ARGUMENTS},
            )
            step = "log in"
            browser.wait_until_element_is_visible("id:username")
            browser.input_text("id:username", self.settings.ui_username)
            browser.input_password("id:password", self.settings.ui_password.get_secret_value())
            browser.click_button("id:login-button")
            browser.wait_until_page_contains_element(f"css:#job-{key}, #login-error, #jobs")
            if browser.does_page_contain_element("id:login-error"):
                raise IntegrationError(f"recruiter UI refused the robot's login ({self.settings.ui_username})", code="HELBIT_UI_LOGIN_REFUSED")
            step = "open the job"
            if not browser.does_page_contain_element(f"id:job-{key}"):
                raise IntegrationError(f"job {key} is not in the recruiter UI's open jobs", code="HELBIT_UI_JOB_MISSING")
            browser.click_link(f"id:job-{key}")
            step = "export the applicants"
            browser.wait_until_element_is_visible("id:export-excel")
            shown = browser.get_text("id:applicant-count")
            browser.click_link("id:export-excel")
            path = self._downloaded(browser.driver, downloads)
        except (IntegrationError, TransientError) as error:
            self._screenshot(browser, output, key, step)
            raise error
        except Exception as error:  # Selenium's timeouts and WebDriver failures: the UI is down or slow
            shot = self._screenshot(browser, output, key, step)
            first_line = redact(str(error).strip().splitlines()[0] if str(error).strip() else "")
            raise TransientError(
                f"recruiter UI: could not {step} for job {key}: {type(error).__name__}: {first_line[:200]} (screenshot {shot})",
                code="HELBIT_UI_UNAVAILABLE",
            ) from None
        finally:
            browser.close_all_browsers()
        logger.info(f"Job {key}: the UI listed {shown} applicants; exported to {path.name} in {time.perf_counter() - started:.1f} s.")
        return str(path)

    def _downloaded(self, driver: object, folder: Path) -> Path:
        """Wait, explicitly, until the browser has finished writing the .xlsx (no .crdownload partner left).

        Raises:
            TimeoutException: (Selenium's) no finished download within ``wait_seconds``.
        """
        from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415 (Selenium only when the browser runs, as above)

        def finished(_: object) -> Path | None:
            done = [p for p in folder.glob("*.xlsx") if not p.with_name(p.name + ".crdownload").exists()]
            return done[0] if done and not list(folder.glob("*.crdownload")) else None

        return WebDriverWait(driver, self.wait_seconds, poll_frequency=0.05).until(finished, message=f"no finished .xlsx download in {self.wait_seconds:.0f} s")

    @staticmethod
    def _screenshot(browser: object, output: Path, key: str, step: str) -> str:
        path = output / f"helbit-ui-failure-{key}-{step.replace(' ', '-')}.png"
        try:
            return str(browser.capture_page_screenshot(str(path)))  # type: ignore[attr-defined]
        except Exception:  # no browser window to photograph (it never opened)
            return "none: the browser did not open"
