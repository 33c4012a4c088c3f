"""The served workspace: which requests it admits, who counts as its own, and the team part
of every stored identity (one spelling for an org-wide install)."""

from bot.workspace import Workspace

TEAM = Workspace(team_id="T0DEMO")
ORG = Workspace(team_id="T0ONE", enterprise_id="E0ORG", enterprise_install=True)


def test_a_workspace_admits_its_own_team_only() -> None:
    assert TEAM.admits("T0DEMO", None) and TEAM.admits("T0DEMO", "E0ANY")
    assert not TEAM.admits("T0OTHER", None) and not TEAM.admits(None, None)


def test_an_org_wide_install_admits_every_workspace_of_its_org() -> None:
    assert ORG.admits("T0ONE", "E0ORG") and ORG.admits("T0TWO", "E0ORG")
    assert not ORG.admits("T0ONE", None) and not ORG.admits("T0TWO", "E0OTHER")


def test_identities_are_keyed_by_the_workspace_or_the_org() -> None:
    assert TEAM.key == "T0DEMO"
    assert ORG.key == "E0ORG"  # the same person from any workspace of the org is one identity


def test_guests_and_strangers_are_not_home_people() -> None:
    assert TEAM.is_home_person({"id": "U1", "team_id": "T0DEMO"})
    assert not TEAM.is_home_person({"id": "U1", "team_id": "T0GUEST"})
    assert not TEAM.is_home_person({"id": "U1", "team_id": "T0DEMO", "is_stranger": True})
    member = {"id": "U1", "team_id": "T0TWO", "enterprise_user": {"enterprise_id": "E0ORG"}}
    guest = {"id": "U2", "team_id": "T0X", "enterprise_user": {"enterprise_id": "E0OTHERORG"}}
    assert ORG.is_home_person(member) and not ORG.is_home_person(guest)
