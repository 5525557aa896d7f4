"""What a reason or error code means, in plain language, for the person who reads it.

A code such as ``GUARDIANSHIP_NOT_VERIFIED`` is for machines and searches; whoever reads an outcome (the
``make run`` summary, ``kuntaflow queue list``/``show``) also gets one sentence that says what happened
and, where a person must act, what to do. Codes are strings here, not the processes' enums, so that every
layer can explain any code it meets (a connector's, the engine's, a process's) without importing them.
"""

from __future__ import annotations

#: Codes whose meaning is specific: the processes' business reasons and the engine's own.
MEANINGS: dict[str, str] = {
    # library card: decisions
    "CARD_GRANTED": "the library card was granted and the patron created in the library system",
    "NON_DISCLOSURE_STAFF_REVIEW": "the applicant has a non-disclosure marking: the patron was created, library staff complete the details",
    "ALREADY_A_PATRON": "the applicant already has a library card; no second one was made",
    "UNDER_15_NO_GUARDIAN": "an applicant under 15 needs a guardian to apply",
    "GUARDIAN_NOT_ADULT": "the guardian who applied is not yet 18",
    "GUARDIANSHIP_NOT_VERIFIED": "the guardianship could not be confirmed from the population register: staff check it",
    "NO_PERMANENT_ADDRESS_IN_FINLAND": "the population register has no permanent address in Finland for the applicant",
    "NO_FINNISH_HETU_STAFF_REVIEW": "the applicant logged in without a Finnish personal identity code (eIDAS): staff identify them",
    "UNKNOWN_HOME_LIBRARY": "the chosen home library is not in the library system: staff pick the right one",
    "POSSIBLE_DUPLICATE_STAFF_REVIEW": "a patron with the same name and birth date already exists: staff decide whether it is the same person",
    "INVALID_APPLICATION": "the application's data broke the rules of its form (for example an invalid personal identity code); correct it and retry",
    # card-expiry reminders (every one ends DONE)
    "REMINDED": "the patron (a child's guarantor) was reminded that the library card runs out",
    "NO_CHANNEL": "no e-mail address in the library system and no lawful way to the Suomi.fi mailbox: the library tells the patron at the desk",
    "NO_GUARANTOR": "a child's card has no guarantor in the library system to remind: staff add one",
    "CARD_RENEWED": "the card was renewed or removed after the reminder was queued: nothing to remind of",
    "NOTIFICATION_REFUSED": "on a retry the mail server refused an address an earlier attempt may have reached: a person checks",
    "INVALID_PAYLOAD": "the work item's data is not what the process reads; correct it and retry",
    # employment start
    "INVALID_EMPLOYEE": "the new employee's details broke the rules of HR's form; correct them and retry",
    "HIRE_DETAILS_MISSING": "a hire from recruitment lacks the personal identity code, unit or supervisor: HR adds them and retries",
    "START_DATE_IN_PAST": "the employment's start date has already passed",
    "LICENCE_NUMBER_MISSING": "the job title needs a licensed professional but no Valvira registration number was given",
    "UNKNOWN_SUPERVISOR": "the supervisor is not in the HR system",
    "UNKNOWN_UNIT": "the unit is not in the HR system",
    "SUPERVISOR_WITHOUT_EMAIL": "the supervisor has no e-mail address in the HR system, so the checklist cannot be sent",
    "SUPERVISOR_DID_NOT_CONFIRM": "the supervisor did not confirm the employment start after a reminder: HR follows it up",
    "LETTER_REFUSED": "the letter did not reach the candidate: contact them another way",
    # mass recruitment: the screening (the recruiter's report has the Finnish wording)
    "LICENCE_EXPIRED": "the candidate's right to practise has ended",
    "WRONG_PROFESSION": "the candidate lacks the professional right the job requires",
    "QUALIFICATION_MISSING": "the candidate lacks the required degree",
    "FINNISH_INSUFFICIENT": "the candidate's Finnish is below the required level",
    "NOT_AVAILABLE": "the candidate is not available during the employment",
    "LICENCE_NOT_FOUND": "the candidate was not found in the professional register: check the number, or the name and birth date",
    "LICENCE_DETAILS_MISMATCH": "the registration number belongs to someone else (name or birth date differ)",
    "SEVERAL_REGISTER_MATCHES": "several people in the register share the candidate's name and birth date",
    "LICENCE_LIMITED": "the candidate's right to practise is limited",
    "PARTLY_AVAILABLE": "the candidate is available for only part of the employment",
    "NO_REFERENCE_CONSENT": "the candidate has not consented to references being contacted",
    "NO_INTERVIEW_SLOT": "eligible, but the interview slots are full: add slots",
    "UNREADABLE_APPLICATION": "the application's data could not be read",
    "JOB_NOT_OPEN": "the job is not open for applications in the recruitment system",
    "JOB_NOT_FOUND": "the job is not in the recruitment system",
    "STAGES_MISSING": "the job has no recruitment stages to move candidates through",
    "EXPORT_UNREADABLE": "the recruitment system's applicant export could not be read",
    # the engine
    "ROBOT_DID_NOT_FINISH": "the robot stopped before finishing the case; it is retried",
    "LEASE_EXPIRED": "the robot working on the case went silent; the case was taken back for a retry",
    "ROBOT_TIMEOUT": "the robot ran out of time; the case is retried",
    "UNEXPECTED_DATA": "a system's answer or our own data did not have the expected shape: an integration fault for IT",
    "UNEXPECTED_ERROR": "an unexpected error stopped the case: IT reads the robot's log",
    "CATEGORY_CONFIGURATION": "the library's patron categories are not configured as Kuntaflow expects: IT fixes the settings",
}

#: Endings shared by the connectors' codes (``KOHA_UNAVAILABLE``, ``HR_AUTHENTICATION`` …): the system is the prefix.
_BY_ENDING: dict[str, str] = {
    "_UNAVAILABLE": "{system} did not answer or was overloaded; the case is retried later",
    "_AUTHENTICATION": "{system} refused Kuntaflow's credentials: IT checks the settings",
    "_FORBIDDEN": "{system} did not allow the operation for Kuntaflow's account: IT checks its rights",
    "_REJECTED": "{system} refused the data Kuntaflow sent: an integration fault for IT",
    "_VALIDATION": "{system} found the data Kuntaflow sent invalid: an integration fault for IT",
    "_NOT_FOUND": "{system} did not find what the case refers to",
}

_SYSTEMS = {
    "KOHA": "the library system",
    "VIESTIT": "Suomi.fi Messages",
    "HR": "the HR system",
    "SERVICEDESK": "the service desk",
    "HELBIT": "the recruitment system",
    "HELBIT_UI": "the recruitment system's web UI",
    "VALVIRA": "the professional register",
    "EMAIL": "the e-mail server",
    "SAML": "Suomi.fi e-Identification",
}


def meaning(code: str | None) -> str:
    """One plain-language sentence for ``code``; a neutral one when the code is unknown or missing."""
    if not code:
        return "no reason was recorded"
    if code in MEANINGS:
        return MEANINGS[code]
    for ending, template in _BY_ENDING.items():
        if code.endswith(ending):
            prefix = code[: -len(ending)]
            return template.format(system=_SYSTEMS.get(prefix, "the other system"))
    if code.startswith("SAML_"):
        return "the Suomi.fi login answer was refused as unsafe or invalid"
    return "see the case's error message"


def with_meaning(code: str | None) -> str:
    """``CODE: meaning`` for a line a person reads."""
    return f"{code or '-'}: {meaning(code)}"
