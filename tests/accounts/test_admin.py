from __future__ import annotations

from apps.accounts.models import Organization, Team, TeamMembership
from apps.audit.models import AuditAction, AuditEvent
from tests.factories import make_user


def management(prefix: str, total: int = 0) -> dict[str, int]:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": 0,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def test_an_organization_added_in_admin_gets_its_core_registries(admin_client, admin_user):
    response = admin_client.post(
        "/admin/accounts/organization/add/",
        {
            "name": "Initech",
            "slug": "initech",
            **management("memberships", 1),
            "memberships-0-user": admin_user.pk,
            "memberships-0-role": "admin",
        },
    )
    assert response.status_code == 302
    organization = Organization.objects.get(slug="initech")
    assert sorted(organization.registries.values_list("slug", flat=True)) == ["dataset", "model"]
    assert organization.memberships.get().user == admin_user
    event = AuditEvent.objects.get(
        action=AuditAction.ORGANIZATION_CREATE, organization=organization
    )
    assert event.actor == admin_user


def test_a_team_member_must_be_in_the_organization(admin_client, organization, member):
    stranger = make_user("stranger")
    data = {
        "organization": organization.pk,
        "name": "Research",
        "slug": "research",
        **management("memberships", 2),
        "memberships-0-user": member.pk,
        "memberships-0-role": "member",
        "memberships-1-user": stranger.pk,
        "memberships-1-role": "member",
    }
    response = admin_client.post("/admin/accounts/team/add/", data)
    assert response.status_code == 200
    assert "not in the team&#x27;s organization" in response.content.decode()
    assert not Team.objects.filter(slug="research").exists()

    del data["memberships-1-user"], data["memberships-1-role"]
    data["memberships-TOTAL_FORMS"] = 1
    assert admin_client.post("/admin/accounts/team/add/", data).status_code == 302
    assert TeamMembership.objects.get(team__slug="research").user == member


def test_an_organizations_slug_is_fixed_once_made(admin_client, organization):
    page = admin_client.get(f"/admin/accounts/organization/{organization.pk}/change/")
    assert page.status_code == 200
    assert 'name="slug"' not in page.content.decode()
