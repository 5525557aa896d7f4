*** Settings ***
Documentation    Library card applications from the e-service: each application is checked against the
...              library's rules, the applicant is registered in the library system, and the citizen is
...              told the decision in their Suomi.fi mailbox, by e-mail or by letter.

Resource         library_card.resource


*** Tasks ***
Process Library Card Applications
    [Documentation]    Every application of this batch ends with a card or with a reason a person can act on.
    For Each Work Item    Process One Application
