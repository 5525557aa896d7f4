*** Settings ***
Documentation    Employment starts from HR's form and from mass recruitment: each new employee is registered
...              in HR, gets the service-desk requests they need before the first day, an orientation plan,
...              a welcome e-mail, and their supervisor a checklist with a link to confirm it.

Resource         employment_start.resource


*** Tasks ***
Process Employment Starts
    [Documentation]    Every new employee of this batch is onboarded, or reaches HR with a reason to act on.
    For Each Work Item    Onboard One New Employee
