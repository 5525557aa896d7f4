"""Groups map to roles, roles to processes; a session holds a member or nothing usable."""

from __future__ import annotations

from apps.staff.identity import Role, StaffMember, forget, remember, roles_for_groups, signed_in
from apps.staff.settings import StaffSettings

SETTINGS = StaffSettings()


def test_groups_give_roles_and_roles_give_processes():
    librarian = StaffMember(subject="s1", name="Liisa", roles=roles_for_groups(["kirjasto", "kaikki"], SETTINGS.role_groups))
    assert librarian.roles == {Role.LIBRARIAN}
    assert librarian.may_handle("library_card", SETTINGS.role_processes)
    assert not librarian.may_handle("employment_start", SETTINGS.role_processes)
    assert not librarian.is_administrator


def test_a_group_no_role_names_gives_nothing():
    assert roles_for_groups(["opettajat"], SETTINGS.role_groups) == frozenset()


def test_the_session_keeps_a_member_until_sign_out_and_ignores_a_tampered_value():
    session: dict = {}
    member = StaffMember(subject="s2", name="Harri", roles=frozenset({Role.HR}))
    remember(session, member)
    assert signed_in(session) == member
    forget(session)
    assert signed_in(session) is None
    assert signed_in({"staff_member": {"name": "no subject"}}) is None
    assert signed_in({"staff_member": "admin"}) is None


def test_the_actor_names_the_person_and_their_provider_id():
    assert StaffMember(subject="abc", name="Liisa Virtanen").actor == "Liisa Virtanen (abc)"
