"""Seed for the service desk sandbox: the robot's operator account and the groups tickets are assigned to."""

from __future__ import annotations

#: Ticket type → the group that handles it, and the title prefix the desk gives it.
ASSIGNMENT_GROUPS = {
    "it_account": "IT-palvelut / Käyttäjätunnukset",
    "access_card": "Turvallisuuspalvelut / Kulunvalvonta",
    "keys": "Kiinteistöpalvelut / Avainpalvelu",
    "equipment": "IT-palvelut / Laitetoimitukset",
}
TITLES = {
    "it_account": "Uusi käyttäjätunnus",
    "access_card": "Kulkukortti",
    "keys": "Avaimet",
    "equipment": "Laitteet",
}
