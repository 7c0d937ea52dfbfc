"""The ``eduadvocate`` command: option parsing only. Each command is a thin function that imports
its implementation when it runs, so ``--version`` and ``--help`` load nothing but Typer.

:func:`run` is the one place that turns exceptions into a one-line message and an exit status.
"""

# Annotations as strings: Typer evaluates only the command that runs (cli/lazy.py), not all
# ~100 parameters' on every start.
from __future__ import annotations

import os
import sys
import warnings
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from eduadvocate import __version__
from eduadvocate.cli import completion, lazy

if TYPE_CHECKING:  # imported where a command runs: --help needs neither it nor core.errors
    from eduadvocate.cli.runtime import Runtime

HELP = """Run education-advocacy social media campaigns from a folder of YAML files.

Posts live in posts/*.yaml; accounts in config.yaml. Start with `eduadvocate init`, then
`eduadvocate check` and `eduadvocate calendar`. Exit codes: 0 ok (or only waiting), 1 unexpected
error, 2 usage, 3 config or posts files unreadable, 4 content errors, 5 a delivery failed, was
skipped or is in doubt, 130/143 interrupted (SIGINT/SIGTERM).

Example: `eduadvocate check --config config.example.yaml`."""

app = typer.Typer(
    cls=lazy.LazyGroup,  # run() builds only the command that runs (cli/lazy.py)
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"


class DataFormat(StrEnum):
    text = "text"
    json = "json"


class RenderFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file, or the folder holding config.yaml (default: $EDUADVOCATE_CONFIG, else"
        " ./config.yaml, else a built-in outbox-only config).",
        show_default=False,
    ),
]
FolderArg = Annotated[
    str | None,
    typer.Argument(
        help="Campaign folder (holding posts/), a posts folder, or one posts file (default:"
        " from the config).",
        show_default=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        print(f"eduadvocate {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Run education-advocacy social media campaigns from a folder of YAML files."""
    from eduadvocate.cli.runtime import Runtime

    if not isinstance(ctx.obj, Runtime):
        ctx.obj = Runtime()  # the system's clock, no probe; a test hands in its own


def _runtime(ctx: typer.Context) -> Runtime:
    """The run's Runtime, which the root callback put in the context."""
    from eduadvocate.cli.runtime import Runtime

    runtime = ctx.find_object(Runtime)
    return runtime if runtime is not None else Runtime()


@app.command(short_help="Check every post for every account before it goes out.")
def check(
    ctx: typer.Context,
    folder: Annotated[
        str | None,
        typer.Argument(
            help="Campaign folder (holding posts/), a posts folder, or one posts file (default:"
            " from the config).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="text (a table, or a block per problem when the terminal is too narrow), json"
            " (stable, see README) or github (workflow annotations).",
        ),
    ] = Format.text,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Also ask each account's server for the posts that reply_to:, repost: and"
            " quote: name, as publish will (needs the accounts' credentials and the network).",
        ),
    ] = False,
) -> None:
    """Check every post for every account: limits, media, alt text, times, links, mentions.

    Name one posts file (posts/march.yaml) to check only its posts, with its campaign's config
    and people. Exit 0 when there is no error (warnings allowed), 4 when any post has an error.
    EDUADVOCATE_NOW=2026-12-01T09:00:00Z checks as of that moment.

    Examples: `eduadvocate check`, `eduadvocate check posts/budget-hearing.yaml --format github`.
    """
    from eduadvocate.cli import commands

    raise typer.Exit(
        commands.check(config, folder, fmt.value, _runtime(ctx).preview(), online=online)
    )


@app.command(short_help="Show exactly what each account will receive.")
def render(
    ctx: typer.Context,
    folder: FolderArg = None,
    config: ConfigOpt = None,
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            "-a",
            help="Only this account (repeatable).",
            autocompletion=completion.accounts,
        ),
    ] = None,
    post: Annotated[
        list[str] | None,
        typer.Option(
            "--post",
            "-p",
            help="Only this post id (repeatable).",
            autocompletion=completion.posts,
        ),
    ] = None,
    fmt: Annotated[
        RenderFormat,
        typer.Option(
            "--format",
            "-f",
            help="text, json (the documented contract) or markdown (a pull-request comment:"
            " problems first, then each post as each account gets it).",
        ),
    ] = RenderFormat.text,
    changed_since: Annotated[
        str | None,
        typer.Option(
            "--changed-since",
            metavar="REF",
            help="Only posts new or edited since this git branch, tag or commit (e.g."
            " origin/main); removed ones are listed by id. Any format.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show exactly what each account will receive: every part, its length and limit, facets, media.

    Example: `eduadvocate render --post hearing-7-days --account bluesky-pta`.

    EDUADVOCATE_NOW=2026-12-01T09:00:00Z shows it as of that moment. For a pull request:
    eduadvocate render --format markdown --changed-since origin/main > preview.md (exit 0 once
    written, problems included; `check` is what fails).
    """
    from eduadvocate.cli import commands

    raise typer.Exit(
        commands.render(
            config,
            folder,
            account or [],
            post or [],
            fmt.value,
            _runtime(ctx).preview(),
            changed_since,
        )
    )


github_app = typer.Typer(
    help="Talk to GitHub from a workflow.\n\nExample: `eduadvocate github comment preview.md`.",
    no_args_is_help=True,
)
app.add_typer(github_app, name="github")


@github_app.command("comment", short_help="Post or update the pull request's preview comment.")
def github_comment(
    file: Annotated[str, typer.Argument(help="The comment, e.g. from render --format markdown.")],
    pr: Annotated[
        int | None,
        typer.Option(
            "--pr",
            min=1,
            help="Pull request number (default: the one in $GITHUB_EVENT_PATH).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Post FILE as the pull request's preview comment, or update the one posted before.

    Reads GITHUB_TOKEN (needs pull-requests: write), GITHUB_REPOSITORY (owner/name) and
    GITHUB_API_URL (default https://api.github.com), as GitHub Actions sets them. Exit 2 when
    one is missing, 5 when GitHub refuses or cannot be reached.

    Example: `eduadvocate github comment preview.md --pr 7`.
    """
    from eduadvocate.cli import github

    raise typer.Exit(github.comment(file, pr))


@app.command(short_help="Upcoming posts by day, in the campaign's time zone.")
def calendar(
    ctx: typer.Context,
    folder: FolderArg = None,
    config: ConfigOpt = None,
    days: Annotated[
        int, typer.Option("--days", "-d", min=1, max=3660, help="How many days ahead.")
    ] = 14,
    fmt: Annotated[
        DataFormat, typer.Option("--format", "-f", help="text or json.")
    ] = DataFormat.text,
) -> None:
    """Upcoming posts by day, in the campaign's time zone, per account.

    EDUADVOCATE_NOW=2026-12-01T09:00:00Z shows the days from that moment on.

    Example: `eduadvocate calendar --days 30`.
    """
    from eduadvocate.cli import commands

    raise typer.Exit(commands.calendar(config, folder, days, fmt.value, _runtime(ctx).preview()))


@app.command(short_help="Publish everything due now, once, and exit (cron, CI).")
def publish(
    ctx: typer.Context,
    config: ConfigOpt = None,
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            "-a",
            help="Only this account (repeatable).",
            autocompletion=completion.accounts,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Show what is due; send and record nothing.")
    ] = False,
    fmt: Annotated[
        DataFormat, typer.Option("--format", "-f", help="text or json.")
    ] = DataFormat.text,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="Print only problems, and the summary if any (for cron)."
        ),
    ] = False,
) -> None:
    """Publish everything due now, once, and exit (for cron and CI).

    One line per delivery as it is done (problems on stderr; a progress bar on a terminal),
    then a summary; --quiet prints nothing when all went well. For example:

    06:00  ✓ published  rally  mastodon-main  https://social.example/@us/1

    06:00  ✗ failed  rally  x-main  X refused the post: duplicate content

    Published 1 of 2 due (1 failed: x-main rally); next post due at Mon 2026-11-30 09:00 CST
    (in 2 days 3 h).

    Exit 0 when everything due went out or nothing was due (posts waiting for a retry or a
    rate limit are not failures), 3 while a posts file cannot be read (its posts wait; the others
    go out), 4 when a due post (or one whose time cannot be read) has errors, 5 when a
    delivery failed, was skipped or is in doubt, 130/143 on Ctrl-C/SIGTERM (the post in flight
    finishes; run again to resume).

    Examples: `eduadvocate publish --dry-run`, `eduadvocate publish --account outbox`,
    `eduadvocate publish --quiet` (from cron: prints only when something went wrong).
    """
    from eduadvocate.cli import publishing

    raise typer.Exit(
        publishing.publish(config, account or [], dry_run, fmt.value, _runtime(ctx), quiet)
    )


@app.command(short_help="Run until stopped, publishing each post when it is due.")
def schedule(
    ctx: typer.Context,
    config: ConfigOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only problems (for services).")
    ] = False,
) -> None:
    """Run until stopped, publishing each post when it is due (reloads when the files change).

    It says what it loaded and when the next post is due, a line per delivery as publish does,
    and what each edit changed (by post id and content). For example:

    Loaded 12 posts from 2 files for 3 accounts (ledger: .eduadvocate/ledger.sqlite3); next
    post due at Sat 2026-11-28 09:00 CST (in 3 h).

    09:00  ✓ published  rally  mastodon-main  https://social.example/@us/1

    posts/march.yaml changed: 1 post added (budget-vote); next post due at …

    A posts file that cannot be read keeps its posts waiting (said on stderr, even with --quiet).
    SIGTERM or Ctrl-C finishes the post in flight, records it and exits 143 or 130; a second
    signal stops at once.

    Example: `eduadvocate schedule --quiet` (as a service: examples/eduadvocate.service).
    """
    from eduadvocate.cli import publishing

    raise typer.Exit(publishing.schedule(config, quiet, _runtime(ctx)))


class StateChoice(StrEnum):
    pending = "pending"
    claimed = "claimed"
    published = "published"
    failed = "failed"
    unknown = "unknown"
    skipped = "skipped"
    cancelled = "cancelled"


@app.command(short_help="Each delivery in the ledger: state, link, last error.")
def status(
    ctx: typer.Context,
    config: ConfigOpt = None,
    post: Annotated[
        str | None,
        typer.Option("--post", "-p", help="Only this post id.", autocompletion=completion.posts),
    ] = None,
    state: Annotated[
        StateChoice | None, typer.Option("--state", "-s", help="Only deliveries in this state.")
    ] = None,
    fmt: Annotated[
        DataFormat, typer.Option("--format", "-f", help="text or json (the documented contract).")
    ] = DataFormat.text,
    utc: Annotated[
        bool,
        typer.Option(
            "--utc",
            help="Show times in UTC (text output; JSON is always ISO UTC). Default: the"
            " campaign's time zone, to the minute, as `calendar` shows them.",
        ),
    ] = False,
) -> None:
    """Each delivery in the ledger: state, links, last error, next attempt.

    Examples: `eduadvocate status --state failed`,
    `eduadvocate status --post hearing-7-days --format json`.
    """
    from eduadvocate.cli import publishing

    raise typer.Exit(
        publishing.status(
            config, post, state.value if state else None, fmt.value, _runtime(ctx).clock, utc
        )
    )


@app.command(short_help="Put failed or skipped deliveries back in the queue.")
def retry(
    ctx: typer.Context,
    deliveries: Annotated[
        list[int] | None,
        typer.Argument(
            help="Delivery IDs, as `status` shows them.", metavar="ID...", show_default=False
        ),
    ] = None,
    failed: Annotated[
        bool,
        typer.Option(
            "--failed",
            help="Retry every failed delivery (only those in state failed: not unknown, skipped"
            " or cancelled, which need a look first; name those by ID).",
        ),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Put failed, unknown, skipped or cancelled deliveries back in the queue: the IDs named, or
    with --failed every failed one. Nothing changes when one of the IDs cannot be retried.

    Examples: `eduadvocate retry 12 13`, `eduadvocate retry --failed`.
    """
    from eduadvocate.cli import publishing

    raise typer.Exit(publishing.retry(config, deliveries or [], failed, _runtime(ctx).clock))


@app.command(short_help="Cancel a delivery, or every delivery of a post.")
def cancel(
    ctx: typer.Context,
    delivery: Annotated[
        int | None,
        typer.Argument(help="The delivery's ID, as `status` shows it.", show_default=False),
    ] = None,
    post: Annotated[
        str | None,
        typer.Option(
            "--post",
            "-p",
            autocompletion=completion.posts,
            help="Cancel every delivery of this post not yet published (all accounts and"
            " occurrences the ledger has).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Cancel a delivery that has not been published, or with --post every one of a post (one
    waiting in Facebook's scheduler is deleted there too). Later occurrences of a recurring post
    are not in the ledger yet: end or remove the post in its file to stop those.

    Examples: `eduadvocate cancel 12`, `eduadvocate cancel --post hearing-live`.
    """
    from eduadvocate.cli import publishing

    raise typer.Exit(publishing.cancel(config, delivery, post, _runtime(ctx).clock))


accounts_app = typer.Typer(
    help="Accounts in the config.\n\nExample: `eduadvocate accounts verify`.",
    no_args_is_help=True,
)
app.add_typer(accounts_app, name="accounts")


@accounts_app.command("verify", short_help="Check each account's credentials without posting.")
def accounts_verify(
    config: ConfigOpt = None,
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            "-a",
            help="Only this account (repeatable).",
            autocompletion=completion.accounts,
        ),
    ] = None,
    fmt: Annotated[
        DataFormat, typer.Option("--format", "-f", help="text or json.")
    ] = DataFormat.text,
) -> None:
    """Check each account's credentials without posting. Exit 3 if any fails.

    Example: `eduadvocate accounts verify --account bluesky-pta`.
    """
    from eduadvocate.cli import publishing

    raise typer.Exit(publishing.verify_accounts(config, account or [], fmt.value))


metrics_app = typer.Typer(
    help="Engagement counts of published posts.\n\nExample: `eduadvocate metrics pull --since 7d`.",
    no_args_is_help=True,
)
app.add_typer(metrics_app, name="metrics")
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help='Only posts published since then: a duration back ("7d", "24h") or a date (2026-11-01).',
        show_default=False,
    ),
]


@metrics_app.command("pull", short_help="Fetch engagement counts of published posts.")
def metrics_pull(
    ctx: typer.Context,
    config: ConfigOpt = None,
    since: SinceOpt = None,
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            "-a",
            help="Only this account (repeatable).",
            autocompletion=completion.accounts,
        ),
    ] = None,
    retry_refused: Annotated[
        bool,
        typer.Option(
            "--retry-refused", help="Ask accounts whose platform refused before (tier, permission)."
        ),
    ] = False,
    fmt: Annotated[
        DataFormat, typer.Option("--format", "-f", help="text or json.")
    ] = DataFormat.text,
) -> None:
    """Fetch likes, reposts, replies, reach… of published posts into the ledger, as a snapshot
    for `report`. `schedule` does this by itself 1 hour, 24 hours and 7 days after each post.
    Exit 5 if an account could not be asked (rate limit, network): the next pull tries again.

    Example: `eduadvocate metrics pull --since 7d`.
    """
    from eduadvocate.cli import reports

    raise typer.Exit(
        reports.pull(config, since, account or [], retry_refused, fmt.value, _runtime(ctx).clock)
    )


class ReportFormat(StrEnum):
    text = "text"
    csv = "csv"
    json = "json"


class ReportTable(StrEnum):
    posts = "posts"
    amplifiers = "amplifiers"


@app.command(short_help="What worked: engagement by platform, hashtag and hour.")
def report(
    ctx: typer.Context,
    config: ConfigOpt = None,
    since: SinceOpt = None,
    campaign: Annotated[
        str | None, typer.Option("--campaign", help="Only this campaign.", show_default=False)
    ] = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="text (tables and charts), csv or json.")
    ] = ReportFormat.text,
    html: Annotated[
        str | None,
        typer.Option(
            "--html",
            help="Also write one self-contained HTML page with charts.",
            show_default=False,
        ),
    ] = None,
    table: Annotated[
        ReportTable,
        typer.Option(
            "--table",
            help="With --format csv: posts (a row a post) or amplifiers (a row an account that"
            " engaged).",
        ),
    ] = ReportTable.posts,
) -> None:
    """What worked: engagement by campaign, platform, account, hashtag, weekday and hour; the
    best and worst posts; growth since the pull before; who amplified the campaign (from the
    inbox). Run `metrics pull` (and `inbox pull`) first.

    Examples: `eduadvocate report --since 30d`, `eduadvocate report --html report.html`,
    `eduadvocate report --format csv --table amplifiers`.
    """
    from eduadvocate.cli import reports

    raise typer.Exit(
        reports.report(
            config, since, campaign, fmt.value, html, _runtime(ctx).clock, table=table.value
        )
    )


people_app = typer.Typer(
    short_help="Who amplifies the campaign, to add them to people.yaml.",
    help="The people of people.yaml: who amplifies the campaign, to add them.\n\nExample:"
    " `eduadvocate people suggest --format yaml`.",
    no_args_is_help=True,
)
app.add_typer(people_app, name="people")


class PeopleFormat(StrEnum):
    text = "text"
    json = "json"
    yaml = "yaml"


@people_app.command("suggest", short_help="Who most often amplifies the campaign.")
def people_suggest(
    ctx: typer.Context,
    config: ConfigOpt = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help='Only what they did since then: a duration back ("30d") or a date (2026-11-01).',
            show_default=False,
        ),
    ] = None,
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform", "-p", help="Only this platform (bluesky, ...).", show_default=False
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Show the first N (0: all).", min=0)
    ] = 20,
    fmt: Annotated[
        PeopleFormat,
        typer.Option("--format", "-f", help="text, json, or yaml (people.yaml entries)."),
    ] = PeopleFormat.text,
) -> None:
    """Who amplifies the campaign: who most often reposts, quotes, replies to or mentions it.

    Read from the inbox in the ledger (`inbox pull` fills it; no network here), with who is
    already in people.yaml. `--format yaml` writes the others as people.yaml entries to paste.

    Example: `eduadvocate people suggest --since 30d --format yaml`.
    """
    from eduadvocate.cli import people

    raise typer.Exit(people.suggest(config, since, platform, limit, fmt.value, _runtime(ctx).clock))


inbox_app = typer.Typer(
    short_help="Replies, mentions and reposts, pulled into the ledger.",
    help="Replies, mentions, quotes, comments and reposts of the campaign's accounts, pulled into the ledger."
    " `inbox` alone lists them (the options of `inbox list`).\n\nExamples: `eduadvocate inbox"
    " pull`, `eduadvocate inbox list --unhandled`.",
)
app.add_typer(inbox_app, name="inbox")
InboxAccountOpt = Annotated[
    str | None,
    typer.Option("--account", "-a", help="Only this account.", autocompletion=completion.accounts),
]
InboxPlatformOpt = Annotated[
    str | None,
    typer.Option("--platform", "-p", help="Only this platform (bluesky, ...).", show_default=False),
]
UnhandledOpt = Annotated[
    bool, typer.Option("--unhandled", "-u", help="Only items not marked done.")
]
InboxSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help='Only items written since then: a duration back ("7d", "24h") or a date (2026-11-01).',
        show_default=False,
    ),
]
FormatOpt = Annotated[DataFormat, typer.Option("--format", "-f", help="text or json.")]
InboxLimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=0,
        help="Show at most N items, in the listing's order (0: all). Default: 50 as text, all"
        " as json.",
        show_default=False,
    ),
]


@inbox_app.callback(invoke_without_command=True)
def inbox(
    ctx: typer.Context,
    config: ConfigOpt = None,
    account: InboxAccountOpt = None,
    platform: InboxPlatformOpt = None,
    unhandled: UnhandledOpt = False,
    since: InboxSinceOpt = None,
    fmt: FormatOpt = DataFormat.text,
    limit: InboxLimitOpt = None,
) -> None:
    """Replies, mentions, quotes, comments and reposts, grouped by the campaign post they
    answer, unhandled first, newest first. `inbox pull` fetches them; `inbox done ITEM` marks one handled.

    Example: `eduadvocate inbox list --unhandled --since 7d`.
    """
    if ctx.invoked_subcommand is not None:
        given = [
            "--format" if name == "fmt" else f"--{name}"
            for name in ctx.params
            if getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"
        ]
        if given:  # `inbox --account A pull` would pull every account: Click gives A to `inbox`
            from eduadvocate.core.errors import UsageError

            raise UsageError(
                f"{', '.join(given)} goes after `{ctx.invoked_subcommand}`: before it, it is"
                f" `inbox`'s own and `{ctx.invoked_subcommand}` would not see it",
                hint=f"eduadvocate inbox {ctx.invoked_subcommand} {' '.join(given)} …",
            )
        return
    from eduadvocate.cli import inbox as inbox_cli

    raise typer.Exit(
        inbox_cli.show(
            config, account, platform, unhandled, since, fmt.value, _runtime(ctx).clock, limit
        )
    )


@inbox_app.command("list")
def inbox_list(
    ctx: typer.Context,
    config: ConfigOpt = None,
    account: InboxAccountOpt = None,
    platform: InboxPlatformOpt = None,
    unhandled: UnhandledOpt = False,
    since: InboxSinceOpt = None,
    fmt: FormatOpt = DataFormat.text,
    limit: InboxLimitOpt = None,
) -> None:
    """List the inbox, as `inbox` alone does.

    Grouped by the campaign post each item answers, unhandled first, newest first. Item ids are
    the ledger's and stay the same.

    Example: `eduadvocate inbox list --account bluesky-pta --format json`.
    """
    from eduadvocate.cli import inbox as inbox_cli

    raise typer.Exit(
        inbox_cli.show(
            config, account, platform, unhandled, since, fmt.value, _runtime(ctx).clock, limit
        )
    )


@inbox_app.command("pull", short_help="Fetch new replies, mentions and reposts into the ledger.")
def inbox_pull(
    ctx: typer.Context,
    config: ConfigOpt = None,
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            "-a",
            help="Only this account (repeatable).",
            autocompletion=completion.accounts,
        ),
    ] = None,
    fmt: FormatOpt = DataFormat.text,
    posts_since: Annotated[
        str | None,
        typer.Option(
            "--posts-since",
            help="Read the replies under posts published since then: a duration back"
            ' ("90d") or a date (2026-09-01), or "all". Default: the last 30 days.',
            show_default=False,
        ),
    ] = None,
) -> None:
    """Fetch new replies, mentions, quotes, comments and reposts into the ledger.

    Bluesky, Mastodon, X, Facebook Pages and Instagram (an outbox account is named once and
    skipped), with the replies under each post published in the last 30 days (one request
    each; --posts-since widens it). Pulling twice adds nothing; a pull cut off resumes where
    it stopped. Exit 5 if an account could not be read; an account its platform refuses to
    read for (X's free tier, a token without the permission) is reported, as `metrics pull`
    reports it, and is not an error.

    Example: `eduadvocate inbox pull --account bluesky-pta --posts-since 90d`.
    """
    from eduadvocate.cli import inbox as inbox_cli

    raise typer.Exit(
        inbox_cli.pull(config, account or [], fmt.value, _runtime(ctx).clock, posts_since)
    )


@inbox_app.command("done")
def inbox_done(
    ctx: typer.Context,
    items: Annotated[list[int], typer.Argument(help="Item ids, as `inbox` shows them.")],
    config: ConfigOpt = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by", help="Who handled them (default: your login name).", show_default=False
        ),
    ] = None,
) -> None:
    """Mark inbox items handled (answered, or nothing to answer).

    Exit 2 for an unknown id (the others are still marked).

    Example: `eduadvocate inbox done 12 14`.
    """
    from eduadvocate.cli import inbox as inbox_cli

    raise typer.Exit(inbox_cli.done(config, items, by, _runtime(ctx).clock))


@inbox_app.command("open")
def inbox_open(
    ctx: typer.Context,
    item: Annotated[int, typer.Argument(help="An item id, as `inbox` shows it.")],
    config: ConfigOpt = None,
) -> None:
    """Print an inbox item's link, to open it in a browser or an app.

    Example: `eduadvocate inbox open 12`.
    """
    from eduadvocate.cli import inbox as inbox_cli

    raise typer.Exit(inbox_cli.open_item(config, item, _runtime(ctx).clock))


@app.command(short_help="Answer an inbox item on its platform.")
def reply(
    ctx: typer.Context,
    item: Annotated[int, typer.Argument(help="An inbox item id, as `inbox` shows it.")],
    text: Annotated[
        str | None, typer.Argument(help="The reply's text.", show_default=False)
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            help="A YAML file of the reply's fields instead of TEXT: text, media (with alt),"
            " hashtags, as in a post.",
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Check and render it; write and send nothing.")
    ] = False,
    fmt: Annotated[
        DataFormat, typer.Option("--format", "-f", help="text or json (of the publish run).")
    ] = DataFormat.text,
) -> None:
    """Answer an inbox item on its platform (Bluesky, Mastodon, X, Facebook, Instagram).

    The reply is checked like any post, written to posts/replies/reply-ITEM.yaml (reply_to: the
    item's address, accounts: the item's account, at: now) and published at once, exactly once,
    through the same ledger as every post; the item is marked handled when it is out. Nothing
    is written or sent for a reply with errors (exit 4), and an item answered before is refused
    (exit 2). Otherwise the exit codes are publish's.

    Example: `eduadvocate reply 12 "Thank you for coming to the hearing!" --dry-run`.
    """
    from eduadvocate.cli.reply import reply as answer

    raise typer.Exit(answer(config, item, text, file, dry_run, fmt.value, _runtime(ctx)))


ledger_app = typer.Typer(
    short_help="Upgrade, move or checkpoint the ledger.",
    help="The ledger: upgrade a shared one, move a campaign's history between ledgers,"
    " checkpoint an SQLite one before committing it.\n\nExample: `eduadvocate ledger export -o"
    " history.jsonl`.",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")
LedgerOpt = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        "-l",
        help="The ledger to use: an SQLite file (relative to the campaign folder) or a"
        " postgresql:// URL. It beats $EDUADVOCATE_LEDGER, which beats the config's `ledger:`.",
        show_default=False,
    ),
]


@ledger_app.command("migrate", short_help="Upgrade the ledger's schema.")
def ledger_migrate(config: ConfigOpt = None, ledger: LedgerOpt = None) -> None:
    """Upgrade the ledger's schema. A shared PostgreSQL ledger is only upgraded this way: stop
    the workers, migrate once, then start the new version.

    Example: `eduadvocate ledger migrate --ledger postgresql://eduadvocate@db.example.org/campaign`.
    """
    from eduadvocate.cli import ledgers

    raise typer.Exit(ledgers.migrate(config, ledger))


@ledger_app.command(
    "checkpoint", short_help="Fold an SQLite ledger's log into its file, to commit it."
)
def ledger_checkpoint(config: ConfigOpt = None, ledger: LedgerOpt = None) -> None:
    """Fold an SQLite ledger's write-ahead log into its file and leave no -wal or -shm file, so
    the file alone can be committed (CI). Nothing to do on PostgreSQL.

    Example: `eduadvocate ledger checkpoint`, then `git add --force .eduadvocate/ledger.sqlite3`.
    """
    from eduadvocate.cli import ledgers

    raise typer.Exit(ledgers.checkpoint(config, ledger))


@ledger_app.command("export", short_help="Write the ledger's whole history as JSON Lines.")
def ledger_export(
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
    out: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write here instead of stdout.", show_default=False),
    ] = None,
) -> None:
    """Write the ledger's whole history (deliveries, parts, attempts) as JSON Lines.

    Example: `eduadvocate ledger export -o history.jsonl`.
    """
    from eduadvocate.cli import ledgers

    raise typer.Exit(ledgers.export(config, ledger, out))


@ledger_app.command("import", short_help="Load an export into a new, empty ledger.")
def ledger_import(
    file: Annotated[str, typer.Argument(help="An export, or - for stdin.")],
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """Load an export into a new, empty ledger (all or nothing), keeping delivery IDs.

    Example: `eduadvocate ledger import history.jsonl --ledger postgresql://eduadvocate@db.example.org/campaign`.
    """
    from eduadvocate.cli import ledgers

    raise typer.Exit(ledgers.import_(config, ledger, file))


@app.command(short_help="Create a campaign folder with sample posts to start from.")
def init(
    ctx: typer.Context,
    folder: Annotated[str, typer.Argument(help="Where to create the campaign.")] = ".",
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            "-t",
            help="IANA time zone (default: this computer's).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a campaign folder: config.yaml, people.yaml and a first post that passes check.

    The sample posts go only to the outbox account and are dated a week ahead.

    Example: `eduadvocate init spring-drive --timezone America/Chicago`.
    """
    from eduadvocate.cli import commands

    raise typer.Exit(commands.init(folder, timezone, _runtime(ctx).clock))


@app.command(short_help="Print the JSON Schema of posts files, for editors.")
def schema() -> None:
    """Print the JSON Schema of posts files, for editors (init wires it up for you).

    Example: `eduadvocate schema > .eduadvocate/posts.schema.json`.
    """
    from eduadvocate.cli import commands

    raise typer.Exit(commands.schema())


def _unwrapped(doc: str) -> str:
    """A docstring's paragraphs each on one line: this Typer keeps single line breaks after the
    first paragraph, which wrap raggedly at 80 columns."""
    import inspect

    return "\n\n".join(p.replace("\n", " ") for p in inspect.cleandoc(doc).split("\n\n"))


# Every group's commands, whichever groups there are (three added later were missed by a list).
for _group in (app, *(g.typer_instance for g in app.registered_groups if g.typer_instance)):
    for _info in _group.registered_commands:
        if _info.help is None and _info.callback is not None and _info.callback.__doc__:
            _info.help = _unwrapped(_info.callback.__doc__)
app.info.help = _unwrapped(HELP)


def run(argv: list[str] | None = None, *, runtime: Runtime | None = None) -> NoReturn:
    """Entry point: runs the app and maps every error to one line on stderr and an exit status.

    ``--traceback`` (anywhere on the line) or ``EDUADVOCATE_TRACEBACK=1`` shows the Python
    traceback for bug reports instead. ``runtime``: the clock and probe to run with (the test
    suite's); by default the root command builds the real one.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    traceback = "--traceback" in args or os.environ.get("EDUADVOCATE_TRACEBACK") == "1"
    args = [a for a in args if a != "--traceback"]
    warnings.showwarning = _show_warning
    heard, before = _listen_for_ctrl_c()
    try:
        status = lazy.command(app)(
            args=args, prog_name="eduadvocate", standalone_mode=False, obj=runtime
        )
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        heard.append(True)
        status = 130
    except Exception as exc:
        # Imported only now: a run that ends well (--help above all) never needs it.
        from eduadvocate.core.errors import EduError, ExitCode

        if isinstance(exc, EduError):
            if traceback:
                raise
            print(f"eduadvocate: error: {exc.one_line()}", file=sys.stderr)
            sys.exit(exc.exit_code)
        if isinstance(exc, BrokenPipeError):
            sys.exit(ExitCode.OK)
        # The last resort: a bug; say so without a wall of text.
        if _is_usage_error(exc):
            _show_usage_error(exc)
        if traceback:
            raise
        print(
            f"eduadvocate: unexpected error: {type(exc).__name__}: {exc}\n"
            "This is a bug; please report it with the output of the same command plus --traceback.",
            file=sys.stderr,
        )
        sys.exit(ExitCode.UNEXPECTED)
    finally:
        if before is not None:  # (the handler back: tests run many commands in one process)
            import signal

            signal.signal(signal.SIGINT, before)
    if heard and status == 130:  # (ExitCode.INTERRUPTED: Typer turns Ctrl-C into that status)
        print("eduadvocate: interrupted", file=sys.stderr)
    sys.exit(status if isinstance(status, int) else 0)  # 0 is ExitCode.OK


def _listen_for_ctrl_c() -> tuple[list[bool], Any]:
    """A list that a Ctrl-C (SIGINT) heard while a command runs adds to, the signal otherwise
    raising KeyboardInterrupt as Python's own handler does: Typer turns that into exit status
    130 and says nothing, so ``run`` says "interrupted" (once: a command that stops on Ctrl-C
    itself, as ``publish`` does, handles the signal with its own handler and prints its own
    line); and the handler to put back (None: none was replaced). A signal ignored when the
    process started (a background job's) stays ignored; only Python's default is replaced,
    and only in the main thread (which alone may set a handler)."""
    import signal
    import threading

    heard: list[bool] = []
    before = signal.getsignal(signal.SIGINT)
    if before is not signal.default_int_handler or threading.current_thread() is not (
        threading.main_thread()
    ):
        return heard, None

    def interrupted(signum: int, frame: Any) -> None:
        heard.append(True)
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, interrupted)
    return heard, before


def _show_warning(
    message: Warning | str, category: type[Warning], *args: object, **kwargs: object
) -> None:
    print(f"eduadvocate: warning: {message}", file=sys.stderr)


def _is_usage_error(exc: Exception) -> bool:
    # Typer vendors Click since 0.26 (typer._click, private); TyperException is the public base
    # of its errors (0.28). The click distribution's classes are not the ones Typer raises.
    return isinstance(exc, typer.TyperException)


def _show_usage_error(exc: Exception) -> NoReturn:
    assert isinstance(exc, typer.TyperException)
    if type(exc).__name__ == "NoArgsIsHelpError":  # a group alone: its help, printed already
        print(exc.format_message())  # as --help ends (Rich printed the help: this is empty)
        sys.exit(exc.exit_code)
    ctx = getattr(exc, "ctx", None)  # a usage error's context (Typer exports no UsageError)
    if ctx is not None:
        print(ctx.get_usage(), file=sys.stderr)
        print(f"Try '{ctx.command_path} --help' for help.\n", file=sys.stderr)
    print(f"Error: {exc.format_message()}", file=sys.stderr)
    sys.exit(exc.exit_code)
