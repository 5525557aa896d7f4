*** Settings ***
Documentation       One task per error category, and personal data logged every way Robot Framework can.
Library             RedactionFixture.py


*** Tasks ***
Passes
    Log    all good

Business Failure
    Fail    BusinessRuleError: UNDER_15_NO_GUARDIAN: the applicant is under 15

Transient Failure
    Fail    TransientError: KOHA_UNAVAILABLE: 503 from the library system

Personal Data Everywhere
    Log    info line with ${HETU}
    Log    debug line with ${HETU}    level=DEBUG
    Log    warning with ${HETU}    level=WARN
    Log To Console    console line with ${HETU}
    Take Identity Code As Argument    ${HETU}
    Fail    BusinessRuleError: INVALID_HETU: failed for ${HETU}
