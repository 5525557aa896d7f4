*** Settings ***
Documentation       A henkilötunnus through Robot Framework's control structures and keyword arguments.
Library             RedactionFixture.py


*** Tasks ***
Personal Data Through Control Structures
    VAR    ${code}    ${HETU}
    FOR    ${value}    IN    ${code}    other
        Log    ${value}
    END
    IF    "${HETU}" != "nobody"    Log    compared
    ${back}=    Hand Back    ${HETU}
    Take Identity Code As Argument    ${back}
    Fail    BusinessRuleError: INVALID_HETU: failed for ${back}


*** Keywords ***
Hand Back
    [Arguments]    ${value}
    RETURN    ${value}
