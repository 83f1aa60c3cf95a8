"""The `registry` command: log, link, alias, tag, download and use artifact versions; list
automations."""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from registry.client import CONFIG, Client, RegistryError, Run


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from error
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="registry", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)

    login = commands.add_parser("login", help="save the server URL and a token")
    login.add_argument("--url", required=True)
    login.add_argument("--token", required=True, help="made on your account page")

    log = commands.add_parser("log", help="log a file or folder as a version")
    log.add_argument("path")
    log.add_argument("--project", required=True, help="<org>/<team>/<project>")
    log.add_argument("--name", required=True, help="artifact name")
    log.add_argument("--type", required=True, help="artifact type, e.g. model")
    log.add_argument("--description", default="")
    log.add_argument("--metadata", type=_json_object)
    log.add_argument("--metrics", type=_json_object)
    log.add_argument("--link", help="also link it into <org>/<registry>/<collection>")
    log.add_argument("--alias", action="append", default=[], help="with --link; repeatable")
    _run_options(log, job_type="log", recorded="the run that produced the version")

    link = commands.add_parser("link", help="link a logged version into a collection")
    link.add_argument("version", help="the id `registry log` printed")
    link.add_argument("target", help="<org>/<registry>/<collection>")
    link.add_argument("--alias", action="append", default=[])

    alias = commands.add_parser("alias", help="put an alias on a linked version")
    alias.add_argument("path", help="<org>/<registry>/<collection>:<vN or alias>")
    alias.add_argument("alias")

    tag = commands.add_parser("tag", help="tag a linked version")
    tag.add_argument("path")
    tag.add_argument("tags", nargs="+")

    download = commands.add_parser("download", help="download a linked version to a folder")
    download.add_argument("path")
    download.add_argument("destination")

    use = commands.add_parser("use", help="download, and record the version as a run's input")
    use.add_argument("path")
    use.add_argument("destination")
    use.add_argument("--project", required=True, help="<org>/<team>/<project> of the run")
    _run_options(use, job_type="use", recorded="the run that used the version")

    automations = commands.add_parser("automations", help="list the automations you may manage")
    automations.add_argument("org")
    automations.add_argument("--registry")
    automations.add_argument("--collection", help="with --registry")
    return main


def _run_options(command: argparse.ArgumentParser, *, job_type: str, recorded: str) -> None:
    """--run, or --run-name and --job-type for the run the command starts, for lineage."""
    command.add_argument("--run", help=f"the id of {recorded}, already started; default: start one")
    command.add_argument(
        "--run-name", default="", help="the started run's name; default: a readable one"
    )
    command.add_argument(
        "--job-type", default=job_type, help=f"the started run's job type (default: {job_type})"
    )


@contextmanager
def _command_run(client: Client, args: argparse.Namespace) -> Iterator[Run]:
    """The run `--run` names, left as it is, or a new one that finishes with the command (as
    failed if the command fails)."""
    if args.run:
        yield Run(client, args.project, args.run)
        return
    with client.run(args.project, args.run_name, args.job_type) as started:
        yield started


def _run_named(run: Run) -> str:
    return f"{run.name} ({run.id})" if run.name else run.id


def _automation_line(automation: dict) -> str:
    """id, name, scope, event → webhook, and how the last execution went."""
    last = automation["last_execution"]
    webhook = f"{automation['webhook']['team']}/{automation['webhook']['name']}"
    return "  ".join(
        [
            str(automation["id"]),
            automation["name"],
            automation["scope"]["path"],
            f"{automation['event']} -> {webhook}",
            f"last {last['status']} {last['created_at']}" if last else "never ran",
            *(["paused"] if automation["paused"] else []),
        ]
    )


def _show_warning(message, *_: object) -> None:
    print(f"registry: warning: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with warnings.catch_warnings():
        # The client's warnings (such as a legacy path followed) read as the command's own.
        warnings.showwarning = _show_warning
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command == "login":
            CONFIG.parent.mkdir(parents=True, exist_ok=True)
            CONFIG.write_text(json.dumps({"url": args.url, "token": args.token}))
            os.chmod(CONFIG, 0o600)
            print(f"Saved to {CONFIG}.")
            return 0
        client = Client()
        if args.command == "log":
            if not Path(args.path).exists():  # before a run is started for nothing
                raise FileNotFoundError(f"{args.path} does not exist.")
            with _command_run(client, args) as current:
                version = current.log_artifact(
                    Path(args.path),
                    name=args.name,
                    type=args.type,
                    description=args.description,
                    metadata=args.metadata,
                    metrics=args.metrics,
                    link_to=args.link,
                    aliases=args.alias,
                )
            print(
                f"Logged {args.name}:{version['version']} (id {version['id']}), "
                f"produced by run {_run_named(current)}."
            )
            if linked := version.get("link"):
                print(f"Linked as {linked['path']} {', '.join(linked['aliases'])}.")
        elif args.command == "link":
            linked = client.link(args.version, args.target, args.alias)
            print(f"Linked as {linked['path']} {', '.join(linked['aliases'])}.")
        elif args.command == "alias":
            linked = client.alias(args.path, args.alias)
            print(f"{linked['path']} now has {', '.join(linked['aliases'])}.")
        elif args.command == "tag":
            linked = client.tag(args.path, args.tags)
            print(f"{linked['path']} is tagged {', '.join(linked['tags'])}.")
        elif args.command == "download":
            print(f"Downloaded to {client.download(args.path, args.destination)}.")
        elif args.command == "use":
            with _command_run(client, args) as current:
                current.use_artifact(args.path).download(args.destination)
            print(
                f"Downloaded to {args.destination}; recorded as an input of run "
                f"{_run_named(current)}."
            )
        elif args.command == "automations":
            for found in client.automations(args.org, args.registry, args.collection):
                print(_automation_line(found))
    except RegistryError as error:
        print(f"registry: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"registry: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
