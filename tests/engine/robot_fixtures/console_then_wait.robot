*** Settings ***
Documentation       Writes a henkilötunnus to the console, then waits for the test: the capture must be masked already.
Library             KillFixture.py


*** Tasks ***
Print And Wait
    Log To Console    console line with ${HETU}
    Hold If Asked    ${{ {"hold": True} }}    ${GATE}
