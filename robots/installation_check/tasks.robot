*** Settings ***
Documentation    Installation check: proves the engine end to end on this machine.
...              Every sample case is a work item; each ends DONE or BUSINESS_FAILED.

Resource         installation_check.resource


*** Tasks ***
Check Sample Cases
    [Documentation]    Check each sample case; the queue records every outcome.
    For Each Work Item    Check One Sample Case
