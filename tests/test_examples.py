"""The deployment examples work as written. The GitHub Actions workflow: its triggers, concurrency,
permissions, secrets and pinned install, and its shell steps run for real with bash against a
bare git "origin" (a normal run, a merge racing the ledger push, an origin that refuses pushes,
a failed publish, a PostgreSQL ledger). The crontab line runs for real too; every eduadvocate
command in the examples exists with the options they give it. The repository's example campaign
checks and publishes to the outbox clean on any later date, its short video and captions too."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from eduadvocate.timing.timespec import parse_every
from tests.conftest import REPO

EXAMPLES = REPO / "examples"
WORKFLOW: dict[Any, Any] = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
JOBS = WORKFLOW["jobs"]
STEPS = {s["id"]: s for s in JOBS["publish"]["steps"] if "id" in s}
LEDGER = ".eduadvocate/ledger.sqlite3"
RUN_ID = "4242"
BIN = Path(sys.executable).parent  # the venv's bin: the installed `eduadvocate` command
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
}
CONFIG = "defaults: {timezone: UTC, accounts: [outbox]}\naccounts:\n  outbox: {platform: outbox}\n"
DUE_NOW = "posts:\n  - id: hearing\n    at: now\n    text: The budget hearing is Thursday.\n"
MISSED = "posts:\n  - id: missed\n    at: 2026-11-28 06:00\n    text: Six hours late.\n"


# -- GitHub's expressions, enough of them for this workflow ------------------------------------------
class _Context(dict[str, Any]):
    """A context object: a missing property is null (falsy, formats as ''), as in GitHub's."""

    def __getattr__(self, name: str) -> Any:
        value = self.get(name, {})
        return _Context(value) if isinstance(value, dict) else value

    def __format__(self, spec: str) -> str:
        return ""


def _evaluate(expression: str, github: dict[str, Any]) -> Any:
    python = expression.replace("&&", " and ").replace("||", " or ").replace("format(", "fmt(")
    assert "!(" not in python and "contains(" not in python, "teach _evaluate this operator"
    scope = {"github": _Context(github), "fmt": lambda text, *args: text.format(*args)}
    return eval(python, {"__builtins__": {}}, scope)  # our own file's expressions only


def _event(name: str, branch: str = "main") -> dict[str, Any]:
    ref = "refs/pull/7/merge" if name == "pull_request" else f"refs/heads/{branch}"
    event = {} if name == "schedule" else {"repository": {"default_branch": "main"}}
    return {"event_name": name, "ref": ref, "ref_name": ref.rsplit("/", 1)[1], "event": event}


def _group(github: dict[str, Any]) -> str:
    template = WORKFLOW["concurrency"]["group"]
    return re.sub(
        r"\$\{\{\s*(.*?)\s*\}\}",
        lambda m: str(_evaluate(m[1], {**github, "workflow": WORKFLOW["name"]})),
        template,
    )


@pytest.mark.parametrize(
    ("event", "checked", "published"),
    [
        (_event("pull_request"), True, False),
        (_event("push"), True, True),
        (_event("push", "feature"), True, False),
        (_event("schedule"), False, True),  # GitHub sends no repository with a schedule event
        (_event("workflow_dispatch"), False, True),
        (_event("workflow_dispatch", "feature"), False, False),  # its ledger would be stale
    ],
)
def test_checks_run_on_pull_requests_and_pushes_and_publishing_only_on_the_default_branch(
    event: dict[str, Any], checked: bool, published: bool
) -> None:
    assert bool(_evaluate(JOBS["check"]["if"], event)) is checked
    assert bool(_evaluate(JOBS["publish"]["if"], event)) is published
    # Every publishing run shares one group; nothing else waits in it.
    assert (_group(event) == "campaign-publish") is published


def test_the_triggers_and_the_schedule() -> None:
    on = WORKFLOW.get("on", WORKFLOW.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(on) == {"pull_request", "push", "schedule", "workflow_dispatch"}
    (schedule,) = on["schedule"]
    parse_every(schedule["cron"])


def test_publish_runs_queue_and_are_never_cancelled_and_read_the_branch_as_it_is_now() -> None:
    assert WORKFLOW["concurrency"]["cancel-in-progress"] is False
    # The workflow's group, not the job's: it is held before anything is checked out.
    assert "concurrency" not in JOBS["publish"]
    checkout = JOBS["publish"]["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    # A run that waited behind another must not check out the commit that triggered it: the
    # ledger the other run pushed is newer.
    assert checkout["with"]["ref"] == "${{ github.ref_name }}"


def test_only_the_publish_job_may_write_and_only_it_sees_secrets() -> None:
    """Least privilege: the workflow grants nothing; each job asks for what it needs."""
    assert WORKFLOW["permissions"] == {}
    assert JOBS["check"]["permissions"] == {"contents": "read"}
    assert JOBS["publish"]["permissions"] == {"contents": "write"}
    assert "secrets." not in yaml.safe_dump(JOBS["check"])  # pull requests from forks get none


def test_the_secrets_are_behind_an_environment_only_the_publishing_job_uses() -> None:
    """An environment's secrets reach only jobs that name it, and it can be limited to the
    default branch (Settings > Environments > Deployment branches)."""
    assert JOBS["publish"]["environment"] == "publishing"
    assert "environment" not in JOBS["check"]


@pytest.mark.parametrize("job", sorted(JOBS))
def test_every_job_has_a_timeout(job: str) -> None:
    assert 0 < JOBS[job]["timeout-minutes"] <= 30


def test_every_action_is_pinned_to_a_commit_with_its_version_beside_it() -> None:
    """A tag can be moved to other code; a commit cannot. The comment says which release it is
    (and lets Dependabot update both)."""
    text = (EXAMPLES / "github-actions.yml").read_text()
    uses = [line.strip() for line in text.splitlines() if re.match(r"\s*(- )?uses:", line)]
    assert len(uses) == sum(1 for job in JOBS.values() for s in job["steps"] if "uses" in s)
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line


def test_only_the_job_that_pushes_keeps_its_git_credentials() -> None:
    for name, job in JOBS.items():
        if name == "comment":  # checks out nothing: see the preview tests at the end
            continue
        checkout = job["steps"][0]
        assert checkout["uses"].startswith("actions/checkout@")
        assert checkout["with"]["persist-credentials"] is (name == "publish"), name


def _documented_secrets() -> set[str]:
    readme = (REPO / "README.md").read_text()
    credentials = readme.split("## Getting each platform's credentials", 1)[1].split("\n## ", 1)[0]
    config = (REPO / "config.example.yaml").read_text()
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", credentials + config)) - {"VAR"}


def test_every_secret_the_readme_and_the_example_config_name_is_mapped() -> None:
    documented = _documented_secrets()
    assert {"X_CONSUMER_KEY", "BLUESKY_APP_PASSWORD", "MASTODON_ACCESS_TOKEN"} <= documented
    assert "FACEBOOK_PAGE_TOKEN" in documented  # Facebook and Instagram
    env = {**JOBS["publish"]["env"], **STEPS["publish"]["env"]}
    for name in documented:
        assert env.get(name) == f"${{{{ secrets.{name} }}}}", name
    assert JOBS["publish"]["env"]["EDUADVOCATE_LEDGER"] == "${{ secrets.DATABASE_URL }}"


def test_eduadvocate_is_installed_from_its_git_repository_at_a_pinned_ref() -> None:
    requirement = Requirement(WORKFLOW["env"]["EDUADVOCATE_PACKAGE"])
    assert requirement.name == "eduadvocate"
    assert requirement.extras == {"postgres"}
    assert requirement.url is not None
    assert requirement.url.startswith("git+https://github.com/")
    ref = requirement.url.rsplit("@", 1)[1]
    assert re.fullmatch(r"v\d+\.\d+\.\d+|[0-9a-f]{40}", ref), "a tag or a commit, never a branch"
    runs = [s.get("run", "") for job in JOBS.values() for s in job["steps"]]
    installs = [r for r in runs if "pip install" in r]
    assert installs == ['pip install "$EDUADVOCATE_PACKAGE"'] * 3


def test_the_ledger_is_checkpointed_and_committed_whatever_publish_did() -> None:
    for step in ("checkpoint", "commit"):
        assert STEPS[step]["if"] == "always() && steps.publish.outcome != 'skipped'"
    assert STEPS["checkpoint"]["run"] == "eduadvocate ledger checkpoint --config config.yaml"
    upload = JOBS["publish"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "failure() && steps.commit.outcome == 'failure'"
    assert upload["with"]["include-hidden-files"] is True  # .eduadvocate/ is a hidden folder
    assert WORKFLOW["defaults"]["run"]["shell"] == "bash"


# -- the steps, run for real ------------------------------------------------------------------------
def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@dataclass
class Runner:
    """A runner's workspace after actions/checkout: a shallow clone of a bare "origin"."""

    tmp: Path
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> Path:
        return self.tmp / "origin.git"

    @property
    def work(self) -> Path:
        return self.tmp / "work"

    @property
    def summary(self) -> Path:
        return self.tmp / "step-summary.md"

    @property
    def ledger(self) -> Path:
        return self.work / LEDGER

    def _value(self, expression: str) -> str:
        if expression.startswith("secrets."):
            return self.secrets.get(expression.removeprefix("secrets."), "")
        values = {"github.ref_name": "main", "github.run_id": RUN_ID}
        assert expression in values, f"the test has no value for ${{{{ {expression} }}}}"
        return values[expression]

    def _expand(self, text: str) -> str:
        return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: self._value(m[1]), text)

    def step(self, step_id: str, work: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run one step's script as GitHub does for `shell: bash`."""
        step = STEPS[step_id]
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "RUNNER_TEMP": str(self.tmp),
            "GITHUB_STEP_SUMMARY": str(self.summary),
        }
        for block in (WORKFLOW["env"], JOBS["publish"]["env"], step.get("env", {})):
            env.update({k: self._expand(str(v)) for k, v in block.items()})
        script = self.tmp / f"{step_id}.sh"
        script.write_text(self._expand(step["run"]))
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=work or self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def push_elsewhere(self, path: str, text: str, message: str) -> None:
        """Someone merges a commit into origin's main (while a run is publishing)."""
        other = self.tmp / "elsewhere"
        if not other.exists():
            _git("clone", "-q", str(self.origin), str(other), cwd=self.tmp)
        (other / path).parent.mkdir(parents=True, exist_ok=True)
        (other / path).write_text(text)
        _git("add", path, cwd=other)
        _git("commit", "-q", "-m", message, cwd=other)
        _git("push", "-q", "origin", "main", cwd=other)

    def refuse_pushes(self, refs: str) -> None:
        """Origin's pre-receive hook rejects every push to refs matching the shell pattern."""
        hook = self.origin / "hooks" / "pre-receive"
        hook.write_text(
            "#!/bin/sh\nwhile read old new ref; do\n"
            f'  case "$ref" in {refs}) echo "$ref is protected" >&2; exit 1 ;; esac\n'
            "done\n"
        )
        hook.chmod(0o755)

    def on_origin(self, ref: str, path: str = LEDGER) -> bytes:
        return subprocess.run(
            ["git", "--git-dir", str(self.origin), "show", f"{ref}:{path}"],
            capture_output=True,
            check=True,
        ).stdout

    def origin_log(self, ref: str = "main") -> list[str]:
        log = _git("--git-dir", str(self.origin), "log", "--format=%s", ref, cwd=self.tmp)
        return log.splitlines()


@pytest.fixture
def runner(tmp_path: Path) -> Callable[..., Runner]:
    def make(posts: str = DUE_NOW, secrets: dict[str, str] | None = None) -> Runner:
        r = Runner(tmp_path, secrets or {})
        _git("init", "-q", "--bare", "-b", "main", str(r.origin), cwd=tmp_path)
        seed = tmp_path / "seed"
        (seed / "posts").mkdir(parents=True)
        (seed / "config.yaml").write_text(CONFIG)
        (seed / "posts" / "posts.yaml").write_text(posts)
        (seed / ".gitignore").write_text("*.sqlite3\n*.sqlite3-*\n")  # as in this repository
        _git("init", "-q", "-b", "main", cwd=seed)
        _git("add", ".", cwd=seed)
        _git("commit", "-q", "-m", "campaign", cwd=seed)
        _git("push", "-q", str(r.origin), "main", cwd=seed)
        _git("clone", "-q", "--depth", "1", f"file://{r.origin}", str(r.work), cwd=tmp_path)
        return r

    return make


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_run_publishes_reports_and_pushes_the_checkpointed_ledger_alone(
    runner: Callable[..., Runner],
) -> None:
    r = runner()
    _ok(r.step("guard"))
    log = _ok(r.step("publish"))
    assert "hearing" in log and "published" in log  # the normal text report, in the job log
    summary = r.summary.read_text()
    assert summary.startswith("### eduadvocate publish: exit 0\n\n```text\n")
    assert "hearing" in summary and "published" in summary
    _ok(r.step("checkpoint"))
    assert "The ledger is pushed to main." in _ok(r.step("commit"))

    assert r.on_origin("main") == r.ledger.read_bytes()
    assert r.origin_log() == [f"ledger: publish run {RUN_ID} [skip ci]", "campaign"]
    changed = _git(
        "--git-dir", str(r.origin), "show", "--name-only", "--format=", "main", cwd=r.tmp
    )
    assert changed.split() == [LEDGER]  # not the outbox, the lock or a -wal/-shm file


def test_a_merge_during_the_run_is_rebased_under_the_ledger_commit(
    runner: Callable[..., Runner],
) -> None:
    r = runner()
    _ok(r.step("publish"))
    r.push_elsewhere("posts/later.yaml", "posts: []\n", "more posts")
    _ok(r.step("checkpoint"))
    out = _ok(r.step("commit"))
    assert "::warning::The ledger push was rejected (try 1 of 5)" in out
    assert r.origin_log() == [f"ledger: publish run {RUN_ID} [skip ci]", "more posts", "campaign"]
    assert r.on_origin("main") == r.ledger.read_bytes()
    assert r.on_origin("main", "posts/later.yaml") == b"posts: []\n"


def test_an_origin_that_refuses_every_push_fails_loudly_and_keeps_the_ledger(
    runner: Callable[..., Runner],
) -> None:
    r = runner()
    _ok(r.step("publish"))
    _ok(r.step("checkpoint"))
    before = r.ledger.read_bytes()
    r.refuse_pushes("*")
    result = r.step("commit")
    assert result.returncode == 1
    assert (
        "::error::The ledger could not be pushed to main (the push kept failing); it is only in"
        " this run's artifact" in result.stdout
    )
    assert r.ledger.read_bytes() == before
    assert r.origin_log() == ["campaign"]


def test_a_protected_branch_strands_the_ledger_on_a_branch_and_later_runs_refuse_to_publish(
    runner: Callable[..., Runner],
) -> None:
    r = runner()
    _ok(r.step("publish"))
    _ok(r.step("checkpoint"))
    r.refuse_pushes("refs/heads/main")
    result = r.step("commit")
    assert result.returncode == 1
    rescue = f"eduadvocate/unpushed-ledger-{RUN_ID}"
    assert f"it is on the branch {rescue}" in result.stdout
    assert r.on_origin(rescue) == r.ledger.read_bytes()

    later = r.tmp / "later"  # the next run, on a fresh runner
    _git("clone", "-q", "--depth", "1", f"file://{r.origin}", str(later), cwd=r.tmp)
    refused = r.step("guard", work=later)
    assert refused.returncode == 1
    assert f"::error::An earlier run could not push its ledger ({rescue})" in refused.stdout


def test_a_failed_publish_still_commits_the_ledger_and_keeps_its_exit_code(
    runner: Callable[..., Runner],
) -> None:
    r = runner(MISSED)  # six hours late: skipped, which is exit 5
    published = r.step("publish")
    assert published.returncode == 5
    assert "::error::publish exited 5: a delivery failed or is in doubt" in published.stdout
    assert r.summary.read_text().startswith("### eduadvocate publish: exit 5\n")
    _ok(r.step("checkpoint"))
    _ok(r.step("commit"))
    assert r.on_origin("main") == r.ledger.read_bytes()


def test_with_a_database_url_the_ledger_is_in_postgres_and_nothing_is_committed(
    runner: Callable[..., Runner], postgres_url: str
) -> None:
    r = runner(secrets={"DATABASE_URL": postgres_url})
    _ok(r.step("guard"))
    assert "published" in _ok(r.step("publish"))
    assert "a PostgreSQL ledger has no file to checkpoint" in _ok(r.step("checkpoint"))
    assert "nothing to commit" in _ok(r.step("commit"))
    assert not r.ledger.exists()
    assert r.origin_log() == ["campaign"]


# -- cron and systemd -------------------------------------------------------------------------------
CRONTAB = (EXAMPLES / "crontab").read_text()
CRON_LINE = next(line for line in CRONTAB.splitlines() if line.startswith("*/"))


def _cron_command(root: Path, secrets: Path) -> str:
    command = " ".join(CRON_LINE.split()[5:])
    assert "%" not in command  # cron turns % into a newline
    return command.replace("/srv/fund-our-schools", str(root)).replace(
        "/etc/eduadvocate/secrets.env", str(secrets)
    )


def test_the_crontab_line_is_silent_when_all_is_well_and_says_why_when_not(
    tmp_path: Path,
) -> None:
    """Cron mails whatever a job prints: the line prints nothing unless publish failed, and then
    one line with the exit code; a run overlapping another exits 0 and does nothing."""
    root = tmp_path / "campaign"
    (root / "posts").mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG)
    (root / "posts" / "posts.yaml").write_text(DUE_NOW)
    (root / ".venv").symlink_to(BIN.parent)
    secrets = tmp_path / "secrets.env"
    secrets.write_text("X_CONSUMER_KEY=not-used-by-the-outbox\n")
    command = _cron_command(root, secrets)

    def cron() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/sh", "-c", command], capture_output=True, text=True, check=False, timeout=60
        )

    def published() -> int:
        return len(list((root / "outbox").rglob("*.json")))

    quiet = cron()  # the first run, in a folder without .eduadvocate/ yet
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    assert published() == 1

    (root / "posts" / "more.yaml").write_text(DUE_NOW.replace("hearing", "rally"))
    with (root / f"{LEDGER}.lock").open("a") as held:  # another run is still going
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        overlapping = cron()
    assert (overlapping.returncode, overlapping.stdout, overlapping.stderr) == (0, "", "")
    assert published() == 1
    assert cron().returncode == 0
    assert published() == 2

    (root / "posts" / "posts.yaml").write_text(MISSED)
    failed = cron()
    assert failed.stdout.count("\n") == 1
    assert failed.stdout.startswith("eduadvocate publish exited 5 ")
    log = (Path(os.environ["HOME"]) / "eduadvocate-publish.log").read_text()
    assert "Another publish run holds the lock" in log
    assert "skipped" in log


def test_the_crontab_documents_the_exit_codes_and_the_lock() -> None:
    for code in ("0", "3", "4", "5", "130", "143"):
        assert re.search(rf"\b{code}\b", CRONTAB), code
    assert "lock" in CRONTAB


@pytest.mark.parametrize("name", ["eduadvocate.service", "eduadvocate@.service"])
def test_the_systemd_units_treat_a_clean_stop_as_success(name: str) -> None:
    unit = (EXAMPLES / name).read_text()
    service = unit.split("[Service]", 1)[1].split("\n[", 1)[0]
    settings = dict(
        line.split("=", 1) for line in service.splitlines() if "=" in line and line[0] != "#"
    )
    assert settings["ExecStart"].endswith("eduadvocate schedule --config config.yaml --quiet")
    assert settings["KillSignal"] == "SIGTERM"
    assert settings["SuccessExitStatus"] == "143 130"
    assert "SIGTERM" in unit and "143" in unit.split("[Unit]", 1)[0]


def test_the_worker_unit_says_several_run_at_once_safely() -> None:
    unit = (EXAMPLES / "eduadvocate@.service").read_text()
    assert "EDUADVOCATE_LEDGER=postgresql://" in unit
    assert "at once" in unit and "twice" in unit


# -- every command in the examples exists -----------------------------------------------------------
def _invocations(path: Path) -> Iterator[list[str]]:
    """`eduadvocate …` as the example runs it (a `run:` line, the cron line, ExecStart=), and as
    its comments quote it in backticks."""
    text = path.read_text()
    if path.suffix == ".yml":
        scripts = (s.get("run", "") for job in JOBS.values() for s in job["steps"])
        lines = [x.strip() for run in scripts for x in run.splitlines()]
        lines = [x for x in lines if x.startswith("eduadvocate ")]
    elif path.suffix == ".service":
        lines = [x for x in text.splitlines() if x.startswith("ExecStart=")]
    else:
        lines = [x for x in text.splitlines() if x[:1] in "*0123456789"]  # crontab jobs
    for line in [*lines, *re.findall(r"`([^`\n]+)`", text)]:
        for match in re.finditer(r"(?:^|[\s/=])eduadvocate((?: [^\s|;&>]+)*)", line):
            yield match[1].split()


@pytest.mark.parametrize(
    "name", ["github-actions.yml", "crontab", "eduadvocate.service", "eduadvocate@.service"]
)
def test_every_eduadvocate_command_in_the_examples_exists_with_its_options(name: str) -> None:
    import typer.main

    from eduadvocate.cli.main import app

    root = typer.main.get_command(app)
    seen = 0
    for words in _invocations(EXAMPLES / name):
        command: Any = root
        for word in words:
            if word.startswith("-"):
                options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
                assert word.split("=", 1)[0] in options, (name, words, word)
            elif hasattr(command, "commands"):
                assert word in command.commands, (name, words)
                command = command.commands[word]
                seen += 1
    assert seen, f"{name} runs no eduadvocate command"


def test_the_readme_explains_the_examples_and_the_race() -> None:
    readme = (REPO / "README.md").read_text()
    running = readme.split("## Running it", 1)[1].split("\n## ", 1)[0]
    for needle in (
        "examples/crontab",
        "examples/eduadvocate.service",
        "examples/github-actions.yml",
        "`eduadvocate ledger checkpoint`",
        "SuccessExitStatus=143 130",
        "DATABASE_URL",
        "eduadvocate/unpushed-ledger-",
        "rebases its ledger commit",
        "`permissions: {}`",
        "commit SHA",
        "`timeout-minutes:`",
        "`environment: publishing`",
        "`persist-credentials: false`",
        "`pull_request_target`",
    ):
        assert needle in running, needle


# -- the repository's own example campaign -------------------------------------------------------
@pytest.mark.parametrize(
    "now",
    [
        "2026-11-28T12:00:00Z",
        "2027-12-03T23:59:00Z",  # the countdown's own days
        "2028-05-04T12:00:00Z",  # Teacher Appreciation Week
        "2031-11-30T15:00:00Z",
        "2036-02-29T12:00:00Z",
    ],
)
def test_the_readme_first_command_on_the_example_warns_about_nothing_on_any_later_date(
    tmp_path: Path, now: str
) -> None:
    """The README's first command (check, then publish to the outbox) on the example, with the
    clock moved years on: no post of the example is ever in the past or loses its tracking,
    and its urgent update and its short video, with the video's captions, go out to the
    outbox."""
    from tests.test_cli import run

    _copy_example(tmp_path)
    clock = {"EDUADVOCATE_NOW": now}
    check = run(
        "check", "--config", "config.example.yaml", "--format", "json", cwd=tmp_path, env=clock
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["problems"] == []
    args = ("publish", "--config", "config.example.yaml", "--account", "outbox")
    publish = run(*args, cwd=tmp_path, env=clock)
    assert publish.returncode == 0, publish.stdout + publish.stderr
    assert "warning" not in (publish.stdout + publish.stderr).lower()
    assert "hearing-room-change" in publish.stdout
    assert "reserve-video" in publish.stdout
    (written,) = (tmp_path / "outbox").rglob("*--reserve-video.json")
    (part,) = json.loads(written.read_text())["parts"]
    (video,) = part["media"]
    assert video["path"] == str(tmp_path / VIDEO)
    assert video["alt"].startswith("Animated bar chart")
    assert (video["type"], video["width"], video["height"]) == ("video/mp4", 320, 180)
    assert video["captions"] == [{"language": "en", "path": str(tmp_path / CAPTIONS)}]
    assert "captions: en <" in written.with_suffix(".md").read_text()


VIDEO, CAPTIONS = "media/reserve-chart.mp4", "media/reserve-chart.en.vtt"


def _copy_example(to: Path) -> None:
    for name in ("config.example.yaml", "people.yaml", "posts", "media"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, to / name)
        else:
            shutil.copy(source, to / name)


def test_the_example_video_is_a_short_h264_mp4_with_sound_and_captions() -> None:
    """The committed clip (scripts/make_sample_video.py) as check reads it: 4 s of H.264 at
    320×180 with a sound track (so check wants captions), a few KB, and its captions a WebVTT
    file check accepts."""
    from eduadvocate.content.captions import captions_problem
    from eduadvocate.content.media import inspect

    info = inspect(REPO / VIDEO)
    assert info is not None and info.invalid is None
    assert (info.mime, info.codec, info.width, info.height) == ("video/mp4", "h264", 320, 180)
    assert info.has_audio is True
    # The picture's 4 s (60 frames at 15 a second), not the sound's 4.064 (AAC's priming)
    assert info.duration == 4.0
    assert info.size < 50_000
    assert captions_problem(REPO / CAPTIONS) is None
    assert (REPO / CAPTIONS).read_text().startswith("WEBVTT\n")


def test_the_example_video_checks_and_renders_on_every_account_of_the_example(
    tmp_path: Path,
) -> None:
    """The example's video post sent to every account of config.example.yaml: no errors
    (Instagram's 3 s at least, X's shapes, Mastodon's pixels …), and the warnings that say what
    stays behind: the captions where the platform takes no captions file, the alt text on
    Instagram; render shows the clip and its captions."""
    from tests.test_cli import run

    _copy_example(tmp_path)
    config = yaml.safe_load((tmp_path / "config.example.yaml").read_text())
    accounts = sorted(config["accounts"])
    platforms = {config["accounts"][a]["platform"] for a in accounts}
    assert platforms == {"outbox", "x", "bluesky", "mastodon", "facebook", "instagram"}
    posts = tmp_path / "posts" / "video.yaml"
    text = posts.read_text()
    assert "\naccounts: [outbox]\n" in text
    posts.write_text(
        text.replace("\naccounts: [outbox]\n", f"\naccounts: [{', '.join(accounts)}]\n")
    )

    check = run("check", "--config", "config.example.yaml", "--format", "json", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    found = {(p["account"], p["code"], p["severity"]) for p in json.loads(check.stdout)["problems"]}
    no_file = {"mastodon", "instagram"}  # Facebook takes them as SRT by locale
    assert found == {
        (a, "captions-unsent", "warning")
        for a in accounts
        if config["accounts"][a]["platform"] in no_file
    } | {  # a Reel takes no alt text
        (a, "alt-unsent", "warning")
        for a in accounts
        if config["accounts"][a]["platform"] == "instagram"
    }

    args = ("render", "--config", "config.example.yaml", "--post", "reserve-video")
    rendered = run(*args, "--format", "json", cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    deliveries = json.loads(rendered.stdout)["deliveries"]
    assert sorted(d["account"] for d in deliveries) == accounts
    for delivery in deliveries:
        (part,) = delivery["parts"]
        (video,) = part["media"]
        assert (video["path"], video["type"]) == (VIDEO, "video/mp4")
        assert video["bytes"] == (REPO / VIDEO).stat().st_size
        assert video["captions"] == [{"language": "en", "path": CAPTIONS}]
    shown = run(*args, "--account", "outbox", cwd=tmp_path, env={"COLUMNS": "400"}).stdout
    assert "[video] media/reserve-chart.mp4 (alt: Animated bar chart" in shown
    assert "video/mp4, 0:04" in shown and "320×180" in shown
    assert f"captions: en {CAPTIONS}" in shown


# -- the pull-request preview -----------------------------------------------------------------------
CHECK_STEPS = {s["id"]: s for s in JOBS["check"]["steps"] if "id" in s}


def test_the_comment_job_alone_may_comment_and_runs_nothing_of_the_pull_request() -> None:
    """check renders the preview with a read-only token; comment, the only job with
    pull-requests: write, checks out nothing and holds no secret."""
    comment = JOBS["comment"]
    assert comment["permissions"] == {"pull-requests": "write"}
    assert comment["needs"] == "check"
    uses = [s.get("uses", "") for s in comment["steps"]]
    assert not [u for u in uses if u.startswith("actions/checkout@")]
    assert uses[0].startswith("actions/download-artifact@")
    assert "secrets." not in yaml.safe_dump(comment)
    assert "environment" not in comment
    assert comment["steps"][-1]["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}
    # Only pull requests, and only from this repository: a fork's token is read-only anyway.
    assert "github.event_name == 'pull_request'" in comment["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    assert "!cancelled()" in comment["if"]  # after a failed check too: the preview lists why


def test_check_still_fails_with_annotations_and_renders_the_preview_even_then() -> None:
    assert CHECK_STEPS["check"]["run"] == "eduadvocate check --config config.yaml --format github"
    steps = JOBS["check"]["steps"]
    assert steps.index(CHECK_STEPS["check"]) < steps.index(CHECK_STEPS["preview"])
    assert CHECK_STEPS["preview"]["if"].startswith("${{ !cancelled() && ")
    assert CHECK_STEPS["preview"]["env"] == {"BASE_REF": "${{ github.base_ref }}"}
    assert "${{" not in CHECK_STEPS["preview"]["run"]  # the branch name is data, not script
    upload = steps[steps.index(CHECK_STEPS["preview"]) + 1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["name"] == JOBS["comment"]["steps"][0]["with"]["name"]
    assert steps[0]["with"]["fetch-depth"] == 0  # origin/<base> must be there to compare


def test_the_workflow_and_the_readme_say_which_token_rights_the_preview_needs() -> None:
    text = (EXAMPLES / "github-actions.yml").read_text()
    header = text.split("\nname:", 1)[0]
    assert "pull-requests: write" in header and "fork" in header and "read-only" in header
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Preview in pull requests", 1)[1].split("\n## ", 1)[0]
    for needle in ("pull-requests: write", "contents: read", "fork", "`eduadvocate github comment"):
        assert needle in section, needle


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_preview_steps_run_for_real_and_post_one_comment(tmp_path: Path) -> None:
    """The check job's preview step in a clone of a pull request's branch (full history), then
    the comment job's step against a loopback GitHub, twice: one comment, updated."""
    from tests.fakes.github import serve

    origin, work = tmp_path / "origin.git", tmp_path / "work"
    _git("init", "-q", "--bare", "-b", "main", str(origin), cwd=tmp_path)
    seed = tmp_path / "seed"
    (seed / "posts").mkdir(parents=True)
    (seed / "config.yaml").write_text(CONFIG)
    (seed / "posts" / "posts.yaml").write_text(DUE_NOW)
    _git("init", "-q", "-b", "main", cwd=seed)
    _git("add", ".", cwd=seed)
    _git("commit", "-q", "-m", "campaign", cwd=seed)
    _git("push", "-q", str(origin), "main", cwd=seed)
    _git("clone", "-q", f"file://{origin}", str(work), cwd=tmp_path)
    (work / "posts" / "more.yaml").write_text(
        "posts:\n  - id: rally\n    at: 2026-12-03 18:00\n    text: Rally with @octocat\n"
    )
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "a pull request", cwd=work)

    preview = _bash(
        CHECK_STEPS["preview"]["run"], work, {"BASE_REF": "main", "RUNNER_TEMP": str(tmp_path)}
    )
    assert preview.returncode == 0, preview.stderr
    made = (tmp_path / "preview.md").read_text()
    assert "1 post changed since `origin/main` (1 new, 0 edited, 0 removed)" in made
    assert "Rally with @octocat" in made and "hearing" not in made

    artifact = tmp_path / "artifact"
    (artifact / "preview").mkdir(parents=True)
    (artifact / "preview" / "preview.md").write_text(made)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    served = serve()
    github = next(served)
    try:
        github.add_token("ghs_exampleTOKEN")
        github.add_pull("pta/campaign", 7)
        env = {
            "RUNNER_TEMP": str(artifact),
            "GITHUB_TOKEN": "ghs_exampleTOKEN",
            "GITHUB_REPOSITORY": "pta/campaign",
            "GITHUB_API_URL": github.url,
            "GITHUB_EVENT_PATH": str(event),
        }
        step = JOBS["comment"]["steps"][-1]
        for said in ("posted", "updated"):
            done = _bash(step["run"], tmp_path, env)
            assert done.returncode == 0, done.stderr
            assert f"{said} the preview on pull request #7" in done.stdout
        (posted,) = github.comments_on("pta/campaign", 7)
        assert posted["body"] == made
    finally:
        served.close()
