"""Move teams' legacy Model Registries into Registry custom registries, losing nothing."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import Organization, Team
from apps.legacy.migration import TeamPlan, TeamResult, migrate_team, plan_team

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Migrate the legacy Model Registry of each chosen team into the restricted registry "
        "<team>-mr-migrated: members with mapped roles, protected aliases, each registered "
        "model as a collection with its versions, aliases, tags and history. The legacy "
        "registry becomes read-only and stays as it was. One transaction per registered model: "
        "a stopped run resumes, a second run changes nothing. Try --dry-run first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--team",
            action="append",
            default=[],
            help="a team's slug, or org/team; repeat for more teams",
        )
        parser.add_argument(
            "--all", action="store_true", help="every team that has a legacy registry"
        )
        parser.add_argument("--org", help="only teams of this organization (its slug)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print what would be created and what stands in the way; change nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        teams = self._teams(options["team"], options["all"], options["org"])
        if options["dry_run"]:
            self._dry_run(teams)
            return
        started = time.perf_counter()
        # SIGTERM (a service manager, `kill`) stops the run as Ctrl-C does, so the team's row
        # says where it stopped; a SIGKILL leaves it running, and its heartbeat goes stale.
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            results = self._migrate(teams)
        finally:
            signal.signal(signal.SIGTERM, previous)
        self._print_summary(results, time.perf_counter() - started)
        failed = [result for result in results if not result.ok]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(results)} teams did not migrate completely; the reasons "
                "are above. Fix them and run the command again: it resumes where it stopped."
            )
        if all(result.changed_nothing for result in results):
            self.stdout.write("Nothing to do: every registered model is already migrated.")

    def _migrate(self, teams: list[Team]) -> list[TeamResult]:
        results = []
        for team in teams:
            self.stdout.write(f"Team {team.organization.slug}/{team.slug}:")
            try:
                results.append(migrate_team(team, on_progress=self._progress))
            except KeyboardInterrupt:
                self.stderr.write("")
                raise CommandError(
                    f"Interrupted while migrating team {team.slug}. What was migrated stays; "
                    "run the same command again to migrate the rest."
                ) from None
            if self.verbosity >= 1:
                self.stderr.write("")  # end the progress bar's line
        return results

    def _teams(self, names: list[str], every: bool, org: str | None) -> list[Team]:
        if every == bool(names):
            raise CommandError(
                "Name the teams to migrate with --team (repeatable), or choose --all."
            )
        teams = Team.objects.select_related("organization").order_by("organization__slug", "slug")
        if org:
            if not Organization.objects.filter(slug=org).exists():
                raise CommandError(f"There is no organization {org!r}.")
            teams = teams.filter(organization__slug=org)
        if every:
            return list(teams.filter(legacy_models__isnull=False).distinct())
        chosen = []
        for name in dict.fromkeys(names):
            found = self._team(teams, name, org)
            if found not in chosen:
                chosen.append(found)
        return chosen

    def _team(self, teams: Any, name: str, org: str | None) -> Team:
        """One team by slug, or by org/slug when the slug alone is ambiguous."""
        if "/" in name:
            org_slug, _, slug = name.partition("/")
            teams = teams.filter(organization__slug=org_slug)
        else:
            slug = name
        found = list(teams.filter(slug=slug))
        if not found:
            where = f" in organization {org}" if org else ""
            raise CommandError(f"There is no team {name!r}{where}.")
        if len(found) > 1:
            orgs = ", ".join(team.organization.slug for team in found)
            raise CommandError(
                f"Team {name!r} exists in several organizations ({orgs}): say which with "
                f"--org, or write --team {found[0].organization.slug}/{slug}."
            )
        return found[0]

    def _progress(self, done: int, total: int) -> None:
        if self.verbosity < 1:
            return
        filled = BAR_WIDTH * done // max(total, 1)
        self.stderr.write(
            f"\r  [{'#' * filled:<{BAR_WIDTH}}] {done}/{total} registered models", ending=""
        )
        self.stderr.flush()

    def _dry_run(self, teams: list[Team]) -> None:
        plans = [plan_team(team) for team in teams]
        for plan in plans:
            self._print_plan(plan)
        problems = sum(bool(plan.conflict) + plan.count("conflict") for plan in plans)
        to_migrate = sum(plan.count("migrate") for plan in plans if not plan.conflict)
        self.stdout.write(
            f"Dry run: {to_migrate} registered models would be migrated; nothing was changed."
        )
        if problems:
            raise CommandError(
                f"The dry run found {problems} problem(s), listed above with what to fix; "
                "the migration would stop on them."
            )
        if all(plan.nothing_to_do for plan in plans):
            self.stdout.write("Nothing to do: every registered model is already migrated.")

    def _print_plan(self, plan: TeamPlan) -> None:
        team = plan.team
        write = self.stdout.write
        write(f"Team {team.organization.slug}/{team.slug} (dry run, nothing changes):")
        if plan.conflict:
            write(self.style.ERROR(f"  cannot migrate: {plan.conflict}"))
            return
        verb = "reuse" if plan.registry_exists else "create"
        write(f"  {verb} restricted registry {plan.registry}")
        if not plan.registry_exists:
            members = ", ".join(f"{name} as {role.label.lower()}" for name, role in plan.members)
            write(f"  members: {members or 'none'}")
            write(f"  protected aliases: {', '.join(plan.protected_aliases) or 'none'}")
        for model in plan.models:
            if model.state == "migrate":
                write(f"  + collection {model.name}: {model.versions} versions, "
                      f"{model.aliases} aliases")  # fmt: skip
            elif model.state == "done":
                if self.verbosity >= 2:
                    write(f"  = {model.name}: migrated already")
            else:
                write(self.style.WARNING(f"  ! {model.name}: {model.note}"))
        if done := plan.count("done"):
            write(f"  {done} registered models migrated already")
        if plan.nothing_to_do:
            write("  nothing to do: every registered model is already migrated")

    def _print_summary(self, results: list[TeamResult], seconds: float) -> None:
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
        migrated = sum(len(result.migrated) for result in results)
        versions = sum(result.versions for result in results)
        self.stdout.write(
            f"Migrated {migrated} registered models ({versions} versions) in {seconds:.1f} s."
        )
