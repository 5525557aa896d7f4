*** Settings ***
Documentation       Works through items; an item marked "hold" blocks until the test kills the robot.
Library             WorkItems
Library             KillFixture.py
Suite Setup         Write Pid    ${PID_FILE}


*** Tasks ***
Work Through Items
    For Each Work Item    Handle Item


*** Keywords ***
Handle Item
    ${payload}=    Get Work Item Payload
    Hold If Asked    ${payload}    ${GATE}
    Save Work Item Checkpoint    handled    ${payload}
