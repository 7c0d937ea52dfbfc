"""No secret is ever shown.

- A database URL's password is masked whatever it holds (and in ``?password=`` form), and
  opening a ledger at such a URL, unreachable or malformed, never quotes it (with a hypothesis
  property over any password).
- Every command, with distinctive secrets for every account type against the loopback fakes (X
  with OAuth 1.0a and OAuth 2.0, the Graph fake as Facebook and Instagram, a Mastodon of our own
  whose token is distinctive, the reference Bluesky PDS through a proxy, the outbox) and a ledger
  in SQLite or in PostgreSQL behind a URL with a password: publishing that succeeds and that
  meets 401s, 500s, dropped connections, a timeout, answers without an id and wrong secrets;
  ``status``, ``retry``, ``cancel``, ``accounts verify`` (also while reads fail), ``metrics
  pull``, ``inbox pull`` (X's free tier refusing it too), every ``report`` format, ``ledger
  export`` and ``checkpoint``, ``schedule``, and an unreachable or malformed ledger URL with
  ``--traceback``. Everything they print or leave in the
  campaign (ledger, outbox, reports, session files) is searched for every secret, raw,
  URL-encoded and base64-encoded.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.ledger import open_ledger, shown
from eduadvocate.ledger.base import LedgerError
from tests.conftest import NOW, REPO, Make
from tests.crash_support import PdsProxy, cli, settled, start
from tests.fakes import mastodon as mastodon_fake
from tests.fakes.graph_api import GraphFake
from tests.fakes.mastodon import MastodonFake
from tests.fakes.x_api import XFake
from tests.test_cli import run

UNREACHABLE = "127.0.0.1:1"  # nothing listens on port 1: a connection is refused at once


def _userinfo_url(password: str, host: str = UNREACHABLE) -> str:
    return f"postgresql://campaigner:{password}@{host}/campaign?sslmode=disable"


def _query_url(password: str, host: str = UNREACHABLE) -> str:
    return f"postgresql://campaigner@{host}/campaign?sslmode=disable&password={password}"


def _opening(url: str, tmp_path: Path) -> str:
    """The message of opening a ledger at ``url`` (it must fail)."""
    with pytest.raises(LedgerError) as caught:
        open_ledger(url, tmp_path).close()
    return caught.value.one_line()


# -- the database URL ----------------------------------------------------------------------------
SPECIAL = ["Sekret1#Sekret2", "Sekret1?Sekret2", "Sekret1/Sekret2", "Sekret1%Sekret2",
           "Sekret1@Sekret2", "Sekret1:Sekret2", "Sekret1&Sekret2", "Sekret1%zzSekret2"]  # fmt: skip


@pytest.mark.parametrize("password", SPECIAL)
@pytest.mark.parametrize("form", [_userinfo_url, _query_url])
@pytest.mark.parametrize("encode", [True, False], ids=["encoded", "as-typed"])
def test_a_database_url_is_masked_whatever_its_password_holds(
    password: str, form: object, encode: bool
) -> None:
    assert callable(form)
    url = form(quote(password, safe="") if encode else password)
    masked = shown(url)
    assert "Sekret1" not in masked and "Sekret2" not in masked, masked
    assert "***" in masked


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://campaigner:S%23k%2Fr%40t@db.example.org:5432/campaign?sslmode=require",
            "postgresql://campaigner:***@db.example.org:5432/campaign?sslmode=require",
        ),
        (
            "postgres://db.example.org/campaign?password=S%26kr&sslmode=verify-full",
            "postgres://db.example.org/campaign?password=***&sslmode=verify-full",
        ),
        (
            "postgresql://campaigner@db.example.org/campaign?sslmode=require",
            "postgresql://campaigner@db.example.org/campaign?sslmode=require",
        ),
        ("ledger.sqlite3", "ledger.sqlite3"),
    ],
)
def test_a_well_formed_url_keeps_everything_but_its_password(url: str, expected: str) -> None:
    assert shown(url) == expected


@pytest.mark.parametrize("password", SPECIAL)
def test_opening_a_ledger_at_a_malformed_or_unreachable_url_never_quotes_the_password(
    password: str, tmp_path: Path
) -> None:
    for url in (_userinfo_url(password), _query_url(password)):
        message = _opening(url, tmp_path)
        assert "Sekret1" not in message and "Sekret2" not in message, message


def test_a_malformed_url_says_what_to_do_through_the_command(make_campaign: Make) -> None:
    make_campaign("posts: []\n", config="accounts: {o: {platform: outbox}}\n")
    url = _userinfo_url("Sekret1/Sekret2%zz")
    result = run("status", env={"EDUADVOCATE_LEDGER": url})
    assert result.returncode == 3
    assert "Sekret" not in result.stdout + result.stderr
    assert result.stderr == (
        f"eduadvocate: error: the ledger URL {shown(url)} (chosen by EDUADVOCATE_LEDGER) cannot be"
        " read: percent-encode the password's special characters (@ as %40, / as %2F, # as %23,"
        " ? as %3F, % as %25, & as %26)\n"
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(password=st.text(min_size=1))
def test_no_password_is_ever_shown_or_quoted(password: str, tmp_path: Path) -> None:
    """Any password, percent-encoded as a user would: ``shown`` tells nothing about it (it is the
    same as for any other password), and opening the ledger (refused: nothing listens there; or
    malformed) never quotes it, raw or encoded, beyond what the message says for any password."""
    encoded = quote(password, safe="")
    for form in (_userinfo_url, _query_url):
        url = form(encoded)
        assert shown(url) == shown(form("other"))
        message = _opening(url, tmp_path)
        reference = _opening(form("other"), tmp_path) + _opening(form("%zz"), tmp_path)
        for secret in (password, encoded):
            assert secret not in message or secret in reference, message


# -- every command, against every platform's fake ------------------------------------------------
# Each secret is distinctive, so a leak anywhere is found by looking for it (and for its URL- and
# base64-encoded forms). The Bluesky app password is the reference PDS's own (random).
def _secret(kind: str) -> str:
    return f"SECRET-{kind}-{secrets.token_hex(6)}"


@dataclass
class World:
    """Every platform's fake with distinctive credentials, a campaign whose accounts use them, and
    everything the commands printed or wrote, to be searched."""

    root: Path
    env: dict[str, str]  # the secrets, under the names the config gives them
    x: XFake
    graph: GraphFake
    masto: MastodonFake
    proxy: PdsProxy
    secrets: dict[str, str]  # name → value, everything that must never be seen
    seen: list[tuple[str, str]] = field(default_factory=list)  # (what, text)
    minutes: int = 0  # the clock: minutes after conftest's NOW, moved on by each round

    @property
    def now(self) -> str:
        return (datetime.fromisoformat(NOW) + timedelta(minutes=self.minutes)).isoformat()

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = cli(*args, now=self.now, env={**self.env, **(env or {})})
        what = "eduadvocate " + " ".join(args)
        self.seen += [(f"{what}: stdout", result.stdout), (f"{what}: stderr", result.stderr)]
        return result

    def files(self, *folders: Path) -> None:
        """Everything under the folders (the campaign: ledger, outbox, reports, sessions)."""
        for folder in folders:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    self.seen.append((str(path), path.read_bytes().decode("latin-1")))

    def leaks(self) -> list[str]:
        found = []
        for name, value in self.secrets.items():
            for form_name, form in _forms(value).items():
                for what, text in self.seen:
                    at = text.find(form)
                    if at >= 0:
                        context = text[max(0, at - 80) : at + len(form) + 40]
                        found.append(f"{name} ({form_name}) in {what}: …{context}…")
        return found


def _forms(value: str) -> dict[str, str]:
    """A secret as it could appear: as is, URL-encoded, and base64 (standard and URL-safe) at
    each of the three byte alignments it can have inside a longer encoded text (only the whole
    groups of three bytes that are the secret's alone)."""
    forms = {"raw": value, "url-encoded": quote(value, safe="")}
    data = value.encode()
    for lead in range(3):
        first, end = -(-lead // 3), (lead + len(data)) // 3  # whole groups inside the secret
        for name, encode in (("base64", base64.b64encode), ("base64url", base64.urlsafe_b64encode)):
            encoded = encode(b"\0" * lead + data + b"\0\0\0").decode()
            forms[f"{name}@{lead}"] = encoded[4 * first : 4 * end]
    return {k: v for k, v in forms.items() if len(v) >= 8}


CONFIG = """\
defaults: {{timezone: UTC}}
ledger: {ledger}
accounts:
  x1:
    platform: x
    username: coalition
    tier: basic
    consumer_key: ${{X_CONSUMER_KEY}}
    consumer_secret: ${{X_CONSUMER_SECRET}}
    access_token: ${{X_ACCESS_TOKEN}}
    access_token_secret: ${{X_ACCESS_TOKEN_SECRET}}
    base_url: {x_url}
  x2: {{platform: x, username: union, tier: basic, oauth2_token: '${{X_OAUTH2_TOKEN}}', base_url: '{x_url}'}}
  fb: {{platform: facebook, page_id: '{page}', access_token: '${{FACEBOOK_PAGE_TOKEN}}', base_url: '{graph_url}'}}
  ig:
    platform: instagram
    ig_user_id: '{ig}'
    access_token: ${{INSTAGRAM_TOKEN}}
    media_base_url: https://m.example/c/
    base_url: {graph_url}
  masto: {{platform: mastodon, instance: '{masto_url}', access_token: '${{MASTODON_ACCESS_TOKEN}}'}}
  bsky: {{platform: bluesky, handle: {handle}, app_password: '${{BLUESKY_APP_PASSWORD}}', service: '{pds_url}'}}
  outbox: {{platform: outbox, folder: out}}
"""
TEXT_ACCOUNTS = ["x1", "x2", "fb", "masto", "bsky", "outbox"]
MASTODON_TOKEN = _secret("mastodon-token")
TWEETS = r"^/2/tweets$"
STATUSES = r"^/api/v1/statuses$"
GRAPH_POSTS = r"/(feed|media|media_publish)$"


@pytest.fixture(scope="module")
def masto_with_secret(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MastodonFake]:
    """A loopback Mastodon of our own whose token is distinctive (the shared one's is not)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mastodon_fake, "TOKEN", MASTODON_TOKEN)
        fake = MastodonFake(tmp_path_factory.mktemp("mastodon-secret"))
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture(params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest,
    make_campaign: Make,
    masto_with_secret: MastodonFake,
    tmp_path: Path,
) -> Iterator[World]:
    masto_with_secret.reset()
    env = {
        "X_CONSUMER_KEY": _secret("x-consumer-key"),
        "X_CONSUMER_SECRET": _secret("x-consumer-secret"),
        "X_ACCESS_TOKEN": _secret("x-access-token"),
        "X_ACCESS_TOKEN_SECRET": _secret("x-access-token-secret"),
        "X_OAUTH2_TOKEN": _secret("x-oauth2-token"),
        "FACEBOOK_PAGE_TOKEN": _secret("facebook-page-token"),
        "INSTAGRAM_TOKEN": _secret("instagram-token"),
        "MASTODON_ACCESS_TOKEN": MASTODON_TOKEN,
        "DB_PASSWORD": _secret("db#password/with?specials"),
    }
    ledger = ".eduadvocate/ledger.sqlite3"
    if request.param == "postgres":
        server = urlsplit(request.getfixturevalue("postgres_url"))
        password = quote(env["DB_PASSWORD"], safe="")  # as the README says to write it
        env["DB_PASSWORD"] = password  # the variable holds it encoded, ready for the URL
        ledger = f"'postgresql://{server.username}:${{DB_PASSWORD}}@{server.hostname}:{server.port}{server.path}'"
    pds = request.getfixturevalue("pds")
    with XFake() as x, GraphFake() as graph, PdsProxy(pds.url) as proxy:
        x.add_account("coalition", consumer_key=env["X_CONSUMER_KEY"],
                      consumer_secret=env["X_CONSUMER_SECRET"], access_token=env["X_ACCESS_TOKEN"],
                      access_token_secret=env["X_ACCESS_TOKEN_SECRET"], tier="basic")  # fmt: skip
        x.add_account("union", oauth2_token=env["X_OAUTH2_TOKEN"], tier="basic")
        page = graph.add_page(name="PTA", token=env["FACEBOOK_PAGE_TOKEN"])
        ig = graph.add_ig_user(
            page=page, token=env["INSTAGRAM_TOKEN"], media_base_url="https://m.example/c/"
        )
        bsky = pds.create_account()
        env["BLUESKY_APP_PASSWORD"] = bsky.app_password
        config = CONFIG.format(ledger=ledger, x_url=x.base_url, graph_url=graph.base_url,
                               page=page.id, ig=ig.id, masto_url=masto_with_secret.base_url,
                               handle=bsky.handle, pds_url=proxy.url)  # fmt: skip
        root = make_campaign({}, config=config)
        shutil.copy(REPO / "media" / "testimonial-okoro.jpg", root / "m.jpg")
        values = dict(env)
        if request.param == "postgres":
            values["DB_PASSWORD (decoded)"] = unquote(env["DB_PASSWORD"])
        yield World(root, env, x, graph, masto_with_secret, proxy, values)


def _round(world: World, name: str) -> None:
    """A posts file with a text post for every account but Instagram, and a photo for it, both
    due now."""
    (world.root / "posts" / f"{name}.yaml").write_text(
        "utm: false\nposts:\n"
        f"  - id: {name}-text\n    at: now\n    accounts: {TEXT_ACCOUNTS}\n"
        f"    text: 'Round {name}: fund our schools, keep classes small'\n"
        f"  - id: {name}-photo\n    at: now\n    accounts: [ig]\n"
        f"    text: 'Round {name}: a classroom'\n    media: [{{path: m.jpg, alt: A classroom}}]\n"
    )
    settled(world.root)


def _clear(world: World) -> None:
    world.x.clear_faults()
    world.graph.clear_faults()
    world.masto.clear_faults()
    world.proxy.clear()
    outbox = world.root / "out" / "outbox"
    if outbox.is_file():
        outbox.unlink()
        outbox.with_name("kept").rename(outbox)


def _block_outbox(folder: Path) -> None:
    """A file where the account's folder should be: the outbox cannot write (its folder is kept
    aside and put back by :func:`_clear`)."""
    folder.parent.mkdir(exist_ok=True)
    folder.mkdir(exist_ok=True)
    folder.rename(folder.with_name("kept"))
    folder.write_text("not a folder")


FAULTS: dict[str, Callable[[World], object]] = {
    "unauthorized": lambda w: (
        w.x.inject("POST", TWEETS, "error", status=401, times=None),
        w.graph.inject("POST", GRAPH_POSTS, "graph_error", code=190, times=None),
        w.masto.inject("POST", STATUSES, "status", status=401, times=None),
    ),
    "server-error": lambda w: (
        w.x.inject("POST", TWEETS, "500", times=None),
        w.graph.inject("POST", GRAPH_POSTS, "html_5xx", status=500, times=None),
        w.masto.inject("POST", STATUSES, "status", status=500, times=None),
        setattr(w.proxy, "refuse", 100),
    ),
    "dropped": lambda w: (
        w.x.inject("POST", TWEETS, "drop", times=None),
        w.graph.inject("POST", GRAPH_POSTS, "drop", times=None),
        w.masto.inject("*", STATUSES, "drop", times=None),
        _block_outbox(w.root / "out" / "outbox"),
    ),
    "malformed": lambda w: (
        w.x.inject("POST", TWEETS, "store_then_malformed", times=None),
        w.graph.inject("POST", GRAPH_POSTS, "store_then_malformed", times=None),
        w.masto.inject("POST", STATUSES, "store_then_malformed", times=None),
    ),
    # X's client gives up after 30 s: the answer to the first post comes after 31.
    "timeout": lambda w: w.x.inject("POST", TWEETS, "slow", seconds=31),
}


READ_FAULTS: list[Callable[[World], object]] = [
    lambda w: (
        w.x.inject("GET", ".", "drop", times=None),
        w.graph.inject("GET", ".", "drop", times=None),
        w.masto.inject("GET", ".", "drop", times=None),
    ),
    lambda w: (
        w.x.inject("GET", ".", "500", times=None),
        w.graph.inject("GET", ".", "html_5xx", status=500, times=None),
        w.masto.inject("GET", ".", "status", status=500, times=None),
    ),
]


def _retry_what_failed(world: World) -> None:
    shown = world.run("status", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    stuck = [
        d for d in json.loads(shown.stdout)["deliveries"] if d["state"] in ("failed", "unknown")
    ]
    for delivery in stuck:
        if delivery is stuck[0] and delivery["state"] == "failed":
            world.run("cancel", str(delivery["id"]))  # cancelled, then put back by retry
            world.run("status", "--post", delivery["post"])
        world.run("retry", str(delivery["id"]))


def _forget_bluesky_session(world: World) -> None:
    """The next Bluesky call logs in with the app password (a saved session would not need it)."""
    for path in (world.root / ".eduadvocate" / "sessions").glob("*.session"):
        path.unlink()


@pytest.mark.timeout(600)  # every command, run on every platform's fake: 1.5 to 2 min alone
def test_no_secret_in_anything_any_command_prints_or_writes(world: World, tmp_path: Path) -> None:
    """Every command, successes and failures, against every platform: stdout, stderr, the
    ledger (its file or its export), the outbox, reports, session files, exception texts."""
    for args in (["check"], ["check", "--format", "json"], ["check", "--format", "github"],
                 ["render"], ["render", "--format", "json"], ["calendar", "--days", "30"],
                 ["accounts", "verify"], ["publish", "--dry-run"]):  # fmt: skip
        world.run(*args)
    _round(world, "ok")
    published = world.run("publish", "--format", "json")
    assert published.returncode == 0, published.stdout + published.stderr
    wrong = {name: _secret("wrong") for name in world.env if name != "DB_PASSWORD"}
    world.secrets |= {f"{name} (wrong)": value for name, value in wrong.items()}
    for name, inject in FAULTS.items():
        world.minutes += 10
        _round(world, name)
        inject(world)
        failing = world.run("publish", "--traceback")  # a traceback would show, not hide, a leak
        assert failing.returncode != 0 or name == "timeout", (name, failing.stdout)
        world.run("status")
        _clear(world)
        _retry_what_failed(world)
        world.minutes += 5  # past every back-off: what waits goes out now
        world.run("publish")
    world.minutes += 10
    _round(world, "wrong-secrets")
    _forget_bluesky_session(world)
    refused = world.run("publish", env=wrong)
    assert refused.returncode == 5, refused.stdout + refused.stderr
    # Each failed delivery's line (on stderr, with the other problems) says it was refused.
    assert refused.stderr.count("refused") >= 6, refused.stdout + refused.stderr
    _forget_bluesky_session(world)
    assert world.run("accounts", "verify", env=wrong).returncode == 3
    world.run("metrics", "pull", env=wrong)
    world.run("inbox", "pull", env=wrong)
    _retry_what_failed(world)
    world.run("publish")
    world.run("accounts", "verify")
    world.run("metrics", "pull")
    for inject in READ_FAULTS:  # reads carry tokens too (Graph's in the query string)
        inject(world)
        assert world.run("accounts", "verify").returncode == 3
        world.run("metrics", "pull", "--retry-refused")
        _clear(world)
    world.run("metrics", "pull", "--format", "json", "--retry-refused")
    ally = world.x.add_account("ally")
    world.x.add_post(ally, "@coalition @union thank you both")  # each X account has a mention
    world.run("inbox", "pull")  # reads what each account received (the fake AppView has none)
    world.x.set_tier("coalition", "free")  # X refuses the read, naming the tier
    world.run("inbox", "pull", "--format", "json")
    world.x.set_tier("coalition", "basic")
    world.run("inbox", "--format", "json")
    reports = tmp_path / "reports"
    reports.mkdir()
    for fmt in ("text", "csv", "json"):
        world.run("report", "--since", "400d", "--format", fmt)
    world.run("report", "--since", "400d", "--html", str(reports / "report.html"))
    world.run("ledger", "export", "-o", str(reports / "export.jsonl"))
    world.run("ledger", "export")
    world.run("ledger", "checkpoint")
    schedule = start("schedule", now=world.now, env=world.env)
    time.sleep(3)
    schedule.send_signal(signal.SIGTERM)
    out, err = schedule.communicate(timeout=60)
    world.seen += [("schedule: stdout", out), ("schedule: stderr", err)]
    # A ledger that cannot be reached, or whose URL libpq cannot read, with the traceback shown.
    password = unquote(world.env["DB_PASSWORD"])
    for url in (f"postgresql://eduadvocate:{quote(password, safe='')}@127.0.0.1:1/campaign",
                f"postgresql://eduadvocate:{password}@127.0.0.1:1/campaign"):  # fmt: skip
        for args in (["status"], ["publish", "--traceback"], ["ledger", "export", "--traceback"]):
            failed = world.run(*args, env={"EDUADVOCATE_LEDGER": url})
            assert failed.returncode == (1 if "--traceback" in args else 3), failed.stderr
            assert "127.0.0.1:1/campaign" in failed.stderr
    world.secrets |= {
        "DB_PASSWORD (decoded)": password,
        "DB_PASSWORD (encoded)": quote(password, safe=""),
    }
    world.files(world.root, reports)
    sessions = world.root / ".eduadvocate" / "sessions"
    tokens = set(re.findall(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", "".join(
        p.read_text() for p in sessions.glob("*.session"))))  # fmt: skip
    assert tokens, "Bluesky kept no session"
    leaks = world.leaks()
    # The session file is where Bluesky's session tokens belong (mode 0600): nowhere else.
    world.seen = [(what, text) for what, text in world.seen if not what.startswith(str(sessions))]
    world.secrets = {f"Bluesky session token {n}": t for n, t in enumerate(sorted(tokens))}
    leaks += world.leaks()
    assert not leaks, "\n".join(leaks)


def test_the_search_finds_a_secret_in_every_form_it_looks_for() -> None:
    """The leak test above is only as good as its search: each form is found inside other text."""
    value = _secret("probe")
    texts = {
        "raw": f"error: token {value} refused",
        "url-encoded": f"GET /v21.0/me?access_token={quote(value + '/x', safe='')}",
        "base64": "Authorization: Basic " + base64.b64encode(f"user:{value}".encode()).decode(),
        "base64url": base64.urlsafe_b64encode(f"ab{value}".encode()).decode(),
    }
    for name, text in texts.items():
        world = World(Path(), {}, None, None, None, None, {"probe": value}, [(name, text)])  # type: ignore[arg-type]
        assert world.leaks(), name
    clean = World(Path(), {}, None, None, None, None, {"probe": value}, [("x", "nothing here")])  # type: ignore[arg-type]
    assert clean.leaks() == []


def test_the_redaction_of_delivery_errors_knows_a_secret_written_with_a_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.delivery.dispatch import redact, secret_values

    path = tmp_path / "config.yaml"
    path.write_text(
        "accounts:\n  m: {platform: mastodon, instance: 'https://m.example',"
        " access_token: '${MASTO_TOKEN:-none}'}\n"
    )
    monkeypatch.setenv("MASTO_TOKEN", MASTODON_TOKEN)
    values = secret_values(load_config(str(path)))
    assert MASTODON_TOKEN not in redact(f"refused {MASTODON_TOKEN}", values)
