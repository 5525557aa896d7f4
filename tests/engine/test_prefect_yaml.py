"""prefect.yaml names real flows and a work pool; its schedules parse."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml
from prefect import Flow

ROOT = Path(__file__).resolve().parents[2]


def _load() -> dict:
    return yaml.safe_load((ROOT / "prefect.yaml").read_text())


def test_every_deployment_entrypoint_is_a_prefect_flow_on_the_kuntaflow_pool():
    config = _load()
    assert config["deployments"], "prefect.yaml declares no deployments"
    for deployment in config["deployments"]:
        path, function = deployment["entrypoint"].split(":")
        spec = importlib.util.spec_from_file_location(f"entry_{function}", ROOT / path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert isinstance(getattr(module, function), Flow), deployment["name"]
        assert deployment["work_pool"]["name"] == "kuntaflow"
        assert deployment["name"] == function.replace("_", "-")


def test_every_parameter_of_every_deployment_has_a_finnish_label_and_help_text_in_the_run_form():
    """What ``prefect deploy`` stores as the form (``parameter_schema`` of the entrypoint's flow)."""
    from prefect.flows import load_flow_from_entrypoint
    from prefect.utilities.callables import parameter_schema

    for deployment in _load()["deployments"]:
        schema = parameter_schema(load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))).model_dump()
        for name, field in schema["properties"].items():
            # A model parameter is labelled by its model's title (NewEmployee: "Uusi työntekijä").
            title = field.get("title") or schema["definitions"][field["$ref"].rsplit("/", 1)[1]]["title"]
            assert title != name and field.get("description"), f"{deployment['name']}: {name} shows as {title!r}"
    mass = parameter_schema(load_flow_from_entrypoint(str(ROOT / "flows/mass_recruitment.py:mass_recruitment"))).model_dump()
    assert mass["properties"]["job_key"]["title"] == "Työavain" and mass["properties"]["night"]["title"] == "Yö"


def test_schedule_shapes_are_valid_prefect_schedules():
    from prefect.client.schemas.schedules import construct_schedule

    for name, shape in _load()["definitions"]["schedules"].items():
        schedule = construct_schedule(**shape)
        assert schedule is not None, name


def _deployment(name: str) -> dict:
    [found] = [d for d in _load()["deployments"] if d["name"] == name]
    return found


def test_library_card_starts_on_the_eservice_event_and_every_10_minutes_under_the_koha_limit():
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

    from apps.eservice.trigger import SUBMITTED_EVENT, workitem_resource
    from kuntaflow.prefect_deploy import CONCURRENCY_LIMITS
    from kuntaflow.workitems import WorkItem

    deployment = _deployment("library-card")
    assert deployment["entrypoint"] == "flows/library_card.py:library_card"
    assert "koha" in deployment["tags"] and "koha" in CONCURRENCY_LIMITS
    assert [schedule["interval"] for schedule in deployment["schedules"]] == [600]
    [trigger] = [DeploymentEventTrigger(**raw) for raw in deployment["triggers"]]
    assert trigger.enabled and trigger.posture == "Reactive" and trigger.threshold == 1
    assert trigger.expect == {SUBMITTED_EVENT}
    from prefect.events.schemas.events import Resource

    assert trigger.match.matches(Resource(workitem_resource(WorkItem.model_construct(id=42, process="library_card"))))
    assert not trigger.match.matches(Resource({"prefect.resource.id": "prefect.flow-run.1"}))
    # A run keeps looking for at least `within` seconds, so the events the trigger drops after firing are covered.
    assert deployment["parameters"]["settle_seconds"] >= trigger.within.total_seconds()


def test_mass_recruitment_runs_nightly_at_two_helsinki_time_and_hr_can_run_one_job():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import anyio
    from prefect.exceptions import ParameterTypeError
    from prefect.server.schemas.schedules import CronSchedule
    from prefect.utilities.callables import parameter_schema

    from flows.mass_recruitment import mass_recruitment
    from kuntaflow.prefect_deploy import CONCURRENCY_LIMITS

    deployment = _deployment("mass-recruitment")
    assert deployment["entrypoint"] == "flows/mass_recruitment.py:mass_recruitment"
    assert "helbit" in deployment["tags"] and "helbit" in CONCURRENCY_LIMITS
    [schedule] = deployment["schedules"]
    helsinki = ZoneInfo("Europe/Helsinki")
    cron = CronSchedule(**schedule)
    upcoming = anyio.run(lambda: cron.get_dates(n=2, start=datetime(2026, 3, 28, 12, 0, tzinfo=helsinki)))
    # 02:00 Helsinki time on both sides of the switch to summer time (29 March 2026).
    assert [(d.astimezone(helsinki).day, d.astimezone(helsinki).hour) for d in upcoming] == [(29, 2), (30, 2)]
    job_key = parameter_schema(mass_recruitment).properties["job_key"]
    assert job_key["anyOf"][0]["pattern"]  # the UI form refuses a malformed key before a run starts
    assert mass_recruitment.validate_parameters({"job_key": "sote-03-2180-26"})["job_key"] == "sote-03-2180-26"
    with pytest.raises(ParameterTypeError):
        mass_recruitment.validate_parameters({"job_key": "kotihoito"})


def test_employment_start_is_hr_s_flat_form_and_reminders_run_on_working_days_at_seven():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import anyio
    from prefect.server.schemas.schedules import CronSchedule
    from prefect.utilities.callables import parameter_schema

    from flows.employment_start import employment_start
    from kuntaflow.prefect_deploy import CONCURRENCY_LIMITS

    start = _deployment("employment-start")
    assert start["entrypoint"] == "flows/employment_start.py:employment_start" and start["enforce_parameter_schema"] is True
    assert {"hr", "servicedesk"} <= set(start["tags"]) and {"hr", "servicedesk"} <= set(CONCURRENCY_LIMITS)
    schema = parameter_schema(employment_start).model_dump()
    employee = schema["definitions"]["NewEmployee"]
    assert schema["required"] == ["employee"] and employee["title"] == "Uusi työntekijä"
    # Flat: every field is a scalar, a date, an enum or a list of strings, each a real form control, never a JSON box.
    for name, field in employee["properties"].items():
        if "$ref" in field:  # an enum: a select
            assert "enum" in schema["definitions"][field["$ref"].rsplit("/", 1)[1]], name
            continue
        kinds = {option.get("type") for option in field.get("anyOf", [field])}
        assert kinds <= {"string", "integer", "boolean", "array", "null"}, name
        assert field.get("type") != "array" or field["items"]["type"] == "string", name
    assert employee["properties"]["start_date"]["format"] == "date"
    assert _deployment("employment-start-queue")["schedules"][0]["interval"] == 600

    reminders = _deployment("onboarding-reminders")
    assert reminders["entrypoint"] == "flows/onboarding_reminders.py:onboarding_reminders"
    [shape] = reminders["schedules"]
    schedule = CronSchedule(cron=shape["cron"], timezone=shape["timezone"])
    helsinki = ZoneInfo("Europe/Helsinki")
    runs = anyio.run(lambda: schedule.get_dates(6, start=datetime(2026, 12, 24, 8, tzinfo=helsinki)))
    assert [(d.astimezone(helsinki).strftime("%a %H:%M")) for d in runs][:3] == ["Fri 07:00", "Mon 07:00", "Tue 07:00"]


def test_card_expiry_runs_on_working_days_at_seven_under_the_koha_limit():
    reminders, card_expiry = _deployment("onboarding-reminders"), _deployment("card-expiry")
    assert card_expiry["entrypoint"] == "flows/card_expiry.py:card_expiry" and "koha" in card_expiry["tags"]
    assert card_expiry["schedules"] == reminders["schedules"] == [{"cron": "0 7 * * 1-5", "timezone": "Europe/Helsinki"}]


def test_onboarding_reminders_do_nothing_on_a_finnish_public_holiday_that_falls_on_a_weekday():
    from datetime import date

    from schemas.workdays import is_working_day

    # The cron fires Monday to Friday; the flow itself skips these (tested in tests/flows/test_employment_start.py).
    weekday_holidays = [date(2026, 12, 24), date(2026, 12, 25), date(2026, 6, 19), date(2026, 5, 14)]
    assert all(d.weekday() < 5 for d in weekday_holidays) and not any(map(is_working_day, weekday_holidays))


def test_personal_data_retention_runs_nightly_at_three_helsinki_time():
    deployment = _deployment("personal-data-retention")
    assert deployment["entrypoint"] == "flows/personal_data_retention.py:personal_data_retention"
    [schedule] = deployment["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 3 * * *", "Europe/Helsinki")


def test_the_messages_deployments_run_one_at_a_time_on_their_schedules():
    rotation, replies = _deployment("viestit-password-rotation"), _deployment("citizen-replies")
    assert [schedule["cron"] for schedule in rotation["schedules"]] == ["0 3 * * *"] and rotation["parameters"] == {"max_age_days": 90}
    assert [schedule["interval"] for schedule in replies["schedules"]] == [600]
    for deployment in (rotation, replies):
        assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}, deployment["name"]


def test_kuntaflow_up_deploys_every_deployment_prefect_yaml_declares():
    from kuntaflow.prefect_deploy import deployment_names

    names = deployment_names()
    assert names == [deployment["name"] for deployment in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]]
    assert {"staff-digest", "personal-data-retention", "onboarding-reminders", "card-expiry", "library-card"} <= set(names)
