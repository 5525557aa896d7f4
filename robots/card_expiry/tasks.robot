*** Settings ***
Documentation    Card-expiry reminders: every patron whose library card runs out within 30 days hears of it
...              in their language (a child's guarantor for a child) through their Suomi.fi mailbox, by
...              e-mail or by letter; a patron nobody can reach is left for the library's desk.

Resource         card_expiry.resource


*** Tasks ***
Remind Patrons Of Expiring Cards
    [Documentation]    Every card of this batch ends DONE: reminded, or with the reason nobody was.
    For Each Work Item    Remind One Patron
