"""Move teams' legacy Model Registries into Registry custom registries, losing nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import Team
from apps.legacy.migration import TeamPlan, TeamResult, migrate_team, plan_team

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Migrate the legacy Model Registry of each chosen team into the restricted registry "
        "<team>-mr-migrated: members with mapped roles, protected aliases, each registered "
        "model as a collection with its versions, aliases, tags and history. One transaction "
        "per registered model: a stopped run resumes, a second run changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--team", action="append", default=[], help="a team's slug; repeat for more"
        )
        parser.add_argument(
            "--all", action="store_true", help="every team that has a legacy registry"
        )
        parser.add_argument("--org", help="only teams of this organization (its slug)")
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be created; change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        teams = self._teams(options["team"], options["all"], options["org"])
        if options["dry_run"]:
            for team in teams:
                self._print_plan(plan_team(team))
            return
        results = []
        for team in teams:
            self.stdout.write(f"Team {team.organization.slug}/{team.slug}:")
            results.append(migrate_team(team, on_progress=self._progress))
            self.stderr.write("")
        self._print_summary(results)
        failed = [result for result in results if not result.ok]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(results)} teams did not migrate completely; the reasons "
                "are above. Fix them and run the command again: it resumes where it stopped."
            )
        if all(result.changed_nothing for result in results):
            self.stdout.write("Nothing to do: every registered model is already migrated.")

    def _teams(self, slugs: list[str], every: bool, org: str | None) -> list[Team]:
        teams = Team.objects.select_related("organization").order_by("organization__slug", "slug")
        if org:
            teams = teams.filter(organization__slug=org)
            if not teams.exists():
                raise CommandError(f"Organization {org!r} has no teams, or does not exist.")
        if every == bool(slugs):
            raise CommandError("Name teams with --team (repeatable), or choose --all.")
        if every:
            return list(teams.filter(legacy_models__isnull=False).distinct())
        chosen = []
        for slug in dict.fromkeys(slugs):
            found = list(teams.filter(slug=slug))
            if not found:
                raise CommandError(f"No team {slug!r}{f' in {org}' if org else ''}.")
            if len(found) > 1:
                orgs = ", ".join(team.organization.slug for team in found)
                raise CommandError(f"Team {slug!r} exists in {orgs}: say which with --org.")
            chosen.append(found[0])
        return chosen

    def _progress(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // max(total, 1)
        self.stderr.write(
            f"\r  [{'#' * filled:<{BAR_WIDTH}}] {done}/{total} registered models", ending=""
        )

    def _print_plan(self, plan: TeamPlan) -> None:
        team = plan.team
        write = self.stdout.write
        write(f"Team {team.organization.slug}/{team.slug} (dry run, nothing changes):")
        if plan.conflict:
            write(self.style.ERROR(f"  cannot migrate: {plan.conflict}"))
            return
        verb = "reuse" if plan.registry_exists else "create"
        write(f"  {verb} restricted registry {plan.registry}")
        members = ", ".join(f"{name} as {role.label.lower()}" for name, role in plan.members)
        write(f"  members: {members or 'none'}")
        write(f"  protected aliases: {', '.join(plan.protected_aliases) or 'none'}")
        for model in plan.models:
            if model.state == "migrate":
                write(f"  + collection {model.name}: {model.versions} versions, "
                      f"{model.aliases} aliases")  # fmt: skip
            elif model.state == "done":
                write(f"  = {model.name}: migrated already")
            else:
                write(self.style.WARNING(f"  ! {model.name}: {model.note}"))
        if plan.nothing_to_do:
            write("  nothing to do: every registered model is already migrated")

    def _print_summary(self, results: list[TeamResult]) -> None:
        header = ("team", "registry", "migrated now", "already", "versions", "failed")
        rows = [
            (
                f"{result.team.organization.slug}/{result.team.slug}",
                result.registry.slug if result.registry else "—",
                str(len(result.migrated)),
                str(result.already),
                str(result.versions),
                str(len(result.failed)),
            )
            for result in results
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write(
                "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            )
        for result in results:
            for what, why in result.failed:
                self.stdout.write(self.style.ERROR(f"{result.team.slug}: {what}: {why}"))
