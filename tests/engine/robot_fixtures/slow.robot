*** Settings ***
Documentation       Never finishes by itself: the runner's timeout must stop it and the helper it started.
Library             KillFixture.py


*** Variables ***
${HELPER_PID_FILE}      ${EMPTY}


*** Tasks ***
Wait Forever
    IF    $HELPER_PID_FILE    Start Helper Process    ${HELPER_PID_FILE}
    Hold If Asked    ${{ {"hold": True} }}    /nonexistent/gate
