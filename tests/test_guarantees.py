"""The guarantees at the edges, through the real command in a real process: files that fail to
load change nothing, nothing raised inside a delivery strands it, a wrong secret costs one try,
SIGINT/SIGTERM stop cleanly, a dead run's claims are taken over at once, and the exit codes
tell the truth. The platform is the loopback X fake (or the outbox); counts are checked on the
fake, not only in the ledger."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Delivery, State
from tests import launch
from tests.conftest import Make
from tests.fakes.x_api import X_CONFIG_KEYS, Account, XFake, credentials_env

LEDGER = ".eduadvocate/ledger.sqlite3"
T0 = "2026-11-28T12:00:00Z"  # conftest's EDUADVOCATE_NOW: the posts below are due


@pytest.fixture
def x(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[XFake, Account]]:
    with XFake() as fake:
        account = fake.add_account("coalition")
        for name, value in credentials_env(account).items():
            monkeypatch.setenv(name, value)
        yield fake, account


def x_config(fake: XFake, *, outbox: bool = False) -> str:
    config = (
        "defaults: {timezone: UTC, accounts: [acct]}\naccounts:\n  acct:\n    platform: x\n"
        f"{X_CONFIG_KEYS}    base_url: {fake.base_url}\n"
    )
    if outbox:
        config += "  box: {platform: outbox, folder: out}\n"
    return config


def posts(*ids: str, at: str = "2026-11-28 11:59", accounts: str = "") -> str:
    extra = f"    accounts: [{accounts}]\n" if accounts else ""
    return "posts:\n" + "".join(
        f"  - id: {i}\n    at: {at}\n{extra}    text: Post {i} about the levy vote\n" for i in ids
    )


def cli(
    *args: str, now: str = T0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        launch.command(*args),
        capture_output=True,
        text=True,
        env=launch.environment({**os.environ, "EDUADVOCATE_NOW": now, **(env or {})}),
        check=False,
        timeout=120,
    )


def start(*args: str, now: str = T0, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        launch.command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=launch.environment({**os.environ, "EDUADVOCATE_NOW": now, **(env or {})}),
    )


def rows(root: Path) -> dict[str, Delivery]:
    ledger = open_ledger(LEDGER, root)
    try:
        return {d.post_id: d for d in ledger.deliveries()}
    finally:
        ledger.close()


def states(root: Path) -> dict[str, str]:
    return {post: str(d.state) for post, d in rows(root).items()}


def sent(fake: XFake, account: Account) -> list[str]:
    return sorted(p.submitted.split(" about")[0] for p in fake.posts(account))


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# -- files that fail to load change nothing --------------------------------------------------
WHOLE = posts("a1", "a2")
BROKEN = {  # what the file holds for a moment, and the exit status of a run that reads it
    "yaml error": ("posts:\n  - id: a1\n    at: 2026-11-28 11:59\n    text: [unclosed\n", 3),
    "empty (an editor saving)": ("", 3),
    "wrong type": ("posts:\n  - id: a1\n    at: [2026-11-28 11:59]\n    text: Post a1\n", 3),
    "cut mid-key": (WHOLE[: WHOLE.rindex("text:") + 2], 3),
    # Cut in a value, the file still parses: the cut post has errors (held, exit 4).
    "cut mid-value": (WHOLE[: WHOLE.rindex("2026-11-28") + 6], 4),
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_posts_file_that_fails_to_load_cancels_nothing_and_exits_3(
    broken: str, x: tuple[XFake, Account], make_campaign: Make
) -> None:
    fake, account = x
    root = make_campaign(
        {"a.yaml": posts("a1", "a2"), "b.yaml": posts("b1")}, config=x_config(fake)
    )
    fake.inject("POST", r"^/2/tweets$", "503", times=None)
    first = cli("publish")
    assert first.returncode == 0, first.stderr  # waiting for a retry is not a failure
    assert states(root) == {"a1": "pending", "a2": "pending", "b1": "pending"}
    fake.clear_faults()

    text, code = BROKEN[broken]
    (root / "posts" / "a.yaml").write_text(text)
    second = cli("publish", "--format", "json", now="2026-11-28T12:10:00Z")
    assert second.returncode == code, second.stdout + second.stderr
    report = json.loads(second.stdout)
    assert report["cancelled"] == []
    if code == 3:
        assert report["unreadable"][0]["file"] == "posts/a.yaml"
        assert states(root) == {"a1": "pending", "a2": "pending", "b1": "published"}
        assert sent(fake, account) == ["Post b1"]  # the other file's post went out
        again = cli("publish", now="2026-11-28T12:10:30Z")
        assert "cannot read posts/a.yaml:" in again.stderr  # said on every run until fixed
    else:
        assert [h["post"] for h in report["held"]] == ["a2"]
        assert states(root) == {"a1": "published", "a2": "pending", "b1": "published"}

    (root / "posts" / "a.yaml").write_text(posts("a1", "a2"))
    third = cli("publish", now="2026-11-28T12:11:00Z")
    assert third.returncode == 0, third.stdout + third.stderr
    assert states(root) == {"a1": "published", "a2": "published", "b1": "published"}
    assert sent(fake, account) == ["Post a1", "Post a2", "Post b1"]


def test_a_file_cut_at_a_post_boundary_loses_nothing_once_it_is_whole_again(
    x: tuple[XFake, Account], make_campaign: Make
) -> None:
    """A save cut between two posts reads as a clean file without the second: its pending
    delivery is cancelled, and back as soon as the whole file is."""
    fake, account = x
    root = make_campaign({"a.yaml": posts("a1", "a2")}, config=x_config(fake))
    fake.inject("POST", r"^/2/tweets$", "503", times=None)
    cli("publish")
    fake.clear_faults()
    (root / "posts" / "a.yaml").write_text(posts("a1"))
    cut = cli("publish", now="2026-11-28T12:10:00Z")
    assert cut.returncode == 0, cut.stderr
    assert states(root) == {"a1": "published", "a2": "cancelled"}
    (root / "posts" / "a.yaml").write_text(posts("a1", "a2"))
    whole = cli("publish", now="2026-11-28T12:11:00Z")
    assert whole.returncode == 0, whole.stderr
    assert "back in the files" in whole.stdout
    assert states(root) == {"a1": "published", "a2": "published"}
    assert sent(fake, account) == ["Post a1", "Post a2"]


def test_a_post_with_errors_keeps_its_delivery_until_fixed(
    x: tuple[XFake, Account], make_campaign: Make
) -> None:
    fake, account = x
    root = make_campaign({"a.yaml": posts("a1")}, config=x_config(fake))
    fake.inject("POST", r"^/2/tweets$", "503", times=None)
    cli("publish")
    fake.clear_faults()
    (root / "posts" / "a.yaml").write_text(posts("a1").replace("Post a1", "Tell {@nobody}"))
    held = cli("publish", now="2026-11-28T12:10:00Z")
    assert held.returncode == 4, held.stdout + held.stderr
    assert states(root) == {"a1": "pending"}
    (root / "posts" / "a.yaml").write_text(posts("a1"))
    assert cli("publish", now="2026-11-28T12:11:00Z").returncode == 0
    assert sent(fake, account) == ["Post a1"]


@pytest.mark.parametrize("command", ["publish", "status", "schedule"])
def test_no_campaign_here_is_an_error_with_a_hint(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli(command)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "no campaign here" in result.stderr and "eduadvocate init" in result.stderr
    assert "Traceback" not in result.stderr and "Nothing was due" not in result.stdout


def test_a_config_whose_posts_folder_is_missing_is_an_error(make_campaign: Make) -> None:
    root = make_campaign({}, config="accounts:\n  box: {platform: outbox}\nposts: campaign-posts\n")
    result = cli("publish")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "the posts folder campaign-posts does not exist" in result.stderr
    assert not (root / "out").exists()


# -- nothing raised inside a delivery strands it ----------------------------------------------
def test_an_answer_without_an_id_is_looked_up_not_stranded(
    x: tuple[XFake, Account], make_campaign: Make
) -> None:
    fake, account = x
    root = make_campaign(posts("p1", "p2"), config=x_config(fake))
    fake.inject("POST", r"^/2/tweets$", "store_then_malformed")
    result = cli("publish", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert states(root) == {"p1": "published", "p2": "published"}
    assert sent(fake, account) == ["Post p1", "Post p2"]
    assert cli("publish", now="2026-11-28T12:01:00Z").returncode == 0
    assert sent(fake, account) == ["Post p1", "Post p2"]


def test_a_corrupt_outbox_file_is_reported_and_the_run_goes_on(make_campaign: Make) -> None:
    config = "defaults: {timezone: UTC, accounts: [box]}\naccounts:\n  box: {platform: outbox, folder: out}\n"
    root = make_campaign(posts("p1", "p2"), config=config)
    (root / "out" / "box").mkdir(parents=True)
    (root / "out" / "box" / "2026-11-28T1159--p1.json").write_text("{ half a file")
    result = cli("publish", "--format", "json")
    assert result.returncode == 5, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    report = {d["post"]: d for d in json.loads(result.stdout)["deliveries"]}
    assert report["p2"]["state"] == "published"
    assert report["p1"]["state"] == "unknown"
    assert "JSONDecodeError" in report["p1"]["error"]
    assert states(root) == {"p1": "unknown", "p2": "published"}  # nothing left claimed


def test_a_wrong_secret_costs_one_try_and_the_run_goes_on(
    x: tuple[XFake, Account], make_campaign: Make
) -> None:
    fake, account = x
    root = make_campaign(
        {"x.yaml": posts("x1", "x2", "x3"), "box.yaml": posts("b1", accounts="box")},
        config=x_config(fake, outbox=True),
    )
    # The token is refused once; a second try would succeed and post: there must be none.
    fake.inject(
        "POST", r"^/2/tweets$", "error", status=401, body={"title": "Unauthorized", "status": 401}
    )
    result = cli("publish", "--format", "json")
    assert result.returncode == 5, result.stdout + result.stderr
    report = {d["post"]: d for d in json.loads(result.stdout)["deliveries"]}
    assert {p: d["state"] for p, d in report.items()} == {
        "x1": "failed",
        "x2": "failed",
        "x3": "failed",
        "b1": "published",
    }
    assert {report[p]["error_kind"] for p in ("x1", "x2", "x3")} == {"auth"}
    assert len({report[p]["error"] for p in ("x1", "x2", "x3")}) == 1
    assert fake.posts(account) == []
    assert all(d.lease_owner is None for d in rows(root).values())


def test_a_missing_secret_fails_that_account_only(
    x: tuple[XFake, Account], make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, _ = x
    monkeypatch.delenv("X_SECRET")
    root = make_campaign(
        {"x.yaml": posts("x1", "x2"), "box.yaml": posts("b1", accounts="box")},
        config=x_config(fake, outbox=True),
    )
    result = cli("publish")
    assert result.returncode == 5, result.stdout + result.stderr
    # Each failed delivery's line (stderr, with the problems) names the variable to set.
    failed = [line for line in result.stderr.splitlines() if "✗ failed" in line]
    assert len(failed) == 2 and all("X_SECRET" in line for line in failed), result.stderr
    assert "Traceback" not in result.stderr
    assert states(root) == {"x1": "failed", "x2": "failed", "b1": "published"}


# -- signals -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_publish_cleanly_and_the_next_run_finishes(
    sig: signal.Signals, code: int, x: tuple[XFake, Account], make_campaign: Make
) -> None:
    fake, account = x
    ids = [f"p{i}" for i in range(6)]
    root = make_campaign(posts(*ids), config=x_config(fake))
    fake.inject("POST", r"^/2/tweets$", "slow", times=None, seconds=0.7)
    proc = start("publish")
    wait_for(lambda: len(fake.posts(account)) >= 1)
    began = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, out + err
    assert time.monotonic() - began < 5  # it stopped after the part in flight, not at the end
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted" in lines[0] and "publish" in lines[0], err
    gone = sent(fake, account)
    assert 1 <= len(gone) < len(ids)
    after = states(root)
    assert "claimed" not in after.values()
    assert sorted(p for p, s in after.items() if s == "published") == sorted(
        g.split()[1] for g in gone
    )
    fake.clear_faults()
    again = cli("publish")
    assert again.returncode == 0, again.stdout + again.stderr
    assert sent(fake, account) == sorted(f"Post {i}" for i in ids)


def test_ctrl_c_stops_forked_publishers_too(
    make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With many accounts, publish forks processes; Ctrl-C reaches them all (the terminal
    sends it to the group): each stops after its part in flight; nothing is left claimed."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: publish does not fork")
    with XFake() as fake:
        names = [f"a{i}" for i in range(8)]
        accounts = [fake.add_account(n) for n in names]
        config = "defaults: {timezone: UTC}\naccounts:\n"
        for n, account in zip(names, accounts, strict=True):
            for key, value in credentials_env(account).items():
                monkeypatch.setenv(f"{key}_{n}", value)
            keys = X_CONFIG_KEYS.replace("}", f"_{n}}}")
            config += f"  {n}:\n    platform: x\n{keys}    base_url: {fake.base_url}\n"
        files = {f"{n}.yaml": posts(*(f"{n}-{j}" for j in range(4)), accounts=n) for n in names}
        root = make_campaign(files, config=config)
        fake.inject("POST", r"^/2/tweets$", "slow", times=None, seconds=0.5)
        proc = subprocess.Popen(
            launch.command("publish"),
            env=launch.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own group, as a terminal's foreground job is
        )
        wait_for(lambda: len(fake.posts()) >= 4)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, out + err
        assert len(fake.posts()) < 32
        assert "claimed" not in states(root).values()
        fake.clear_faults()
        again = cli("publish")
        assert again.returncode == 0, again.stdout + again.stderr
        texts = sorted(p.submitted for p in fake.posts())
        assert len(texts) == len(set(texts)) == 32


def test_a_second_ctrl_c_stops_at_once_and_the_next_run_reconciles(
    x: tuple[XFake, Account], make_campaign: Make
) -> None:
    """Ctrl-C twice: out now, without waiting for the slow part in flight. What was not started
    is given back; the part in flight is left to the next run, which looks it up first."""
    fake, account = x
    ids = [f"p{i}" for i in range(4)]
    root = make_campaign(posts(*ids), config=x_config(fake))
    fake.inject("POST", r"^/2/tweets$", "store_then_wait", times=1, seconds=8)
    proc = start("publish")
    wait_for(lambda: len(fake.posts(account)) == 1)  # stored; the answer is 8 s away
    began = time.monotonic()
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert time.monotonic() - began < 5
    after = rows(root)
    claimed = [p for p, d in after.items() if d.state == State.CLAIMED]
    assert len(claimed) == 1  # the one in flight, for the next run to look up
    assert all(d.state == State.PENDING for p, d in after.items() if p not in claimed)
    fake.clear_faults()
    wait_for(lambda: fake.held == 0)  # the held answer went (no one listens any more)
    again = cli("publish")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "freed" in again.stdout
    assert sent(fake, account) == sorted(f"Post {i}" for i in ids)


def test_a_run_for_one_account_does_not_say_nothing_is_due_over_a_stranded_claim(
    x: tuple[XFake, Account], make_campaign: Make
) -> None:
    fake, account = x
    make_campaign(
        {
            "x.yaml": posts("x1", "x2"),
            "box.yaml": posts("b1", at="2026-11-28 13:00", accounts="box"),
        },
        config=x_config(fake, outbox=True),
    )
    killed = cli("publish", "--account", "acct", env={"EDUADVOCATE_CRASH_AT": "after-response"})
    assert killed.returncode == -signal.SIGKILL
    other = cli("publish", "--account", "box")
    assert other.returncode == 0, other.stdout + other.stderr
    assert "Nothing was due" not in other.stdout and "claimed by" in other.stdout
    assert cli("publish").returncode == 0
    assert sent(fake, account) == ["Post x1", "Post x2"]


# -- a dead run's claims are taken over at once -------------------------------------------------
def test_a_killed_run_is_shown_stranded_and_taken_over_at_once(
    x: tuple[XFake, Account], make_campaign: Make
) -> None:
    fake, account = x
    root = make_campaign(posts("p1", "p2", "p3"), config=x_config(fake))
    killed = cli("publish", env={"EDUADVOCATE_CRASH_AT": "after-response"})
    assert killed.returncode == -signal.SIGKILL
    assert sent(fake, account) == ["Post p1"]  # it went out; the answer was never recorded
    status = cli("status", "--format", "json")
    shown = {d["post"]: d["state"] for d in json.loads(status.stdout)["deliveries"]}
    assert "stranded" in shown.values(), status.stdout
    assert "stranded" in cli("status").stdout
    # Same instant: no lease has expired, yet the worker is certainly gone.
    again = cli("publish")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "freed" in again.stdout and "Nothing was due" not in again.stdout
    assert states(root) == {"p1": "published", "p2": "published", "p3": "published"}
    assert sent(fake, account) == ["Post p1", "Post p2", "Post p3"]


# -- one exit-code contract ----------------------------------------------------------------------
def test_posts_waiting_for_a_rate_limit_are_not_a_failure(
    x: tuple[XFake, Account], make_campaign: Make
) -> None:
    fake, _ = x
    root = make_campaign(posts("p1", "p2"), config=x_config(fake))
    fake.inject("POST", r"^/2/tweets$", "429", reset_in=600)
    result = cli("publish")
    assert result.returncode == 0, result.stdout + result.stderr
    assert states(root) == {"p1": "pending", "p2": "pending"}


def test_a_rejected_post_is_exit_5_and_nothing_due_is_0(
    x: tuple[XFake, Account], make_campaign: Make
) -> None:
    fake, _ = x
    make_campaign(posts("p1"), config=x_config(fake))
    fake.inject("POST", r"^/2/tweets$", "error", status=400)
    assert cli("publish").returncode == 5
    assert cli("publish", now="2026-11-28T12:05:00Z").returncode == 0  # nothing due any more
