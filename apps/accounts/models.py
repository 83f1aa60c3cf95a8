"""Organizations, teams, their members and the roles they hold."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify


class User(AbstractUser):
    """A person who signs in. Kept as our own model so fields can be added without a rewrite."""


class OrganizationRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class TeamRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


# A registry's visibility and roles, beside the other roles: the policy reads them all, and
# accounts sits below registries.
class Visibility(models.TextChoices):
    ORGANIZATION = "organization", "Organization"
    RESTRICTED = "restricted", "Restricted"


class RegistryRole(models.TextChoices):
    """Registry roles, highest first; `ROLE_RANK` orders them."""

    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"
    RESTRICTED_VIEWER = "restricted_viewer", "Restricted viewer"


ROLE_RANK = {
    RegistryRole.RESTRICTED_VIEWER: 1,
    RegistryRole.VIEWER: 2,
    RegistryRole.MEMBER: 3,
    RegistryRole.ADMIN: 4,
}
BASELINE_ROLES = [RegistryRole.RESTRICTED_VIEWER, RegistryRole.VIEWER, RegistryRole.MEMBER]


class OrganizationQuerySet(models.QuerySet):
    def for_user(self, user: User) -> OrganizationQuerySet:
        """The organizations the user belongs to, by name."""
        return self.filter(memberships__user=user).order_by("name")


class Organization(models.Model):
    """The tenant: its registries, teams and members. Create one with `create_organization`."""

    name = models.CharField(max_length=128)
    slug = models.SlugField(max_length=64, unique=True, help_text="Used in URLs and paths.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def add_member(
        self, user: User, role: OrganizationRole = OrganizationRole.MEMBER
    ) -> OrganizationMembership:
        """Add the user, or change their role if they are already a member."""
        membership, _ = self.memberships.update_or_create(user=user, defaults={"role": role})
        return membership

    def create_team(self, name: str, slug: str = "") -> Team:
        return self.teams.create(name=name, slug=slug or slugify(name))


class OrganizationMembership(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="organization_memberships"
    )
    role = models.CharField(
        max_length=16, choices=OrganizationRole.choices, default=OrganizationRole.MEMBER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="accounts_org_membership_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=OrganizationRole.values),
                name="accounts_org_membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Team(models.Model):
    """A group of people in an organization; it owns projects and may be granted registry roles."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=128)
    slug = models.SlugField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"], name="accounts_team_slug_unique"
            ),
            models.UniqueConstraint(
                Lower("name"), "organization", name="accounts_team_name_unique_ci"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def add_member(self, user: User, role: TeamRole = TeamRole.MEMBER) -> TeamMembership:
        """Add an organization member to the team, or change their team role."""
        membership = self.memberships.filter(user=user).first() or TeamMembership(
            team=self, user=user
        )
        membership.role = role
        membership.full_clean()
        membership.save()
        return membership


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="team_memberships")
    role = models.CharField(max_length=16, choices=TeamRole.choices, default=TeamRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user"], name="accounts_team_membership_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=TeamRole.values),
                name="accounts_team_membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    def clean(self) -> None:
        try:
            organization_id = self.team.organization_id
        except Team.DoesNotExist:
            return  # the form reports the missing team itself
        in_organization = OrganizationMembership.objects.filter(
            organization_id=organization_id, user_id=self.user_id
        )
        if self.user_id and not in_organization.exists():
            raise ValidationError(
                {"user": "This user is not in the team's organization; add them there first."}
            )


TOKEN_PREFIX = "reg_"


def hash_token(token: str) -> str:
    """Tokens are long random strings, so one sha256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


LAST_USE_RESOLUTION = timedelta(minutes=5)


class ApiToken(models.Model):
    """A bearer token for the API and the client. Only its hash is stored; it is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What uses it, e.g. 'CI on main'.")
    hint = models.CharField(
        max_length=12, help_text="The token's first characters, to tell it apart."
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def state(self) -> str:
        """Whether the token still signs in, and if not, why: active, revoked or expired.

        The one test of a usable token, read from the fetched row, so that signing in costs one
        query however the token is refused.
        """
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    def record_use(self) -> None:
        """Note that the token was used, at most once per LAST_USE_RESOLUTION: a read must not
        write on every request, and "last used" is read in minutes, not milliseconds."""
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USE_RESOLUTION:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now

    @classmethod
    def issue(cls, user: User, name: str, expires_at=None) -> tuple[ApiToken, str]:
        """Create a token; returns the row and the token itself, which is never stored."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(
            user=user,
            name=name,
            hint=token[: len(TOKEN_PREFIX) + 4],
            token_hash=hash_token(token),
            expires_at=expires_at,
        )
        return row, token


class FailedAttempt(models.Model):
    """Failures of one client (a username from one address, or an address guessing tokens) in the
    window that began with its first failure; apps.accounts.throttle reads and counts them."""

    class Scope(models.TextChoices):
        SIGN_IN = "sign-in"
        TOKEN = "token"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    # throttle.client_key() of who is counted, never the username or address themselves.
    key = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="accounts_failedattempt_one_per_client"
            )
        ]

    def __str__(self) -> str:
        return f"{self.failures} {self.scope} failures since {self.started_at:%Y-%m-%d %H:%M}"
