"""The pull-request preview: ``render --format markdown [--changed-since REF]`` and ``github
comment``.

- The markdown is read back with a CommonMark parser (markdown-it-py, HTML enabled as GitHub
  allows it): problems come first, errors before warnings; each part is one code block holding
  exactly its text; a hostile text (fences, ``@mentions``, ``#refs``, ``<script>``) cannot leave
  its block or become markup, for any text (hypothesis); the comment stays under GitHub's limit
  and says what it left out.
- ``--changed-since`` in a real git repository: new, edited and removed posts are shown; an
  unchanged post, one moved in its file, and a renamed file are not; a media file changed under
  the same name edits its posts; no repository, an unknown ref and no git are one-line usage
  errors.
- ``github comment`` against a loopback fake of GitHub's two endpoints: one comment, then the
  same one updated; every page followed; the token sent only as the Authorization header and
  shown nowhere; 401/403/404 and missing settings in one line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from eduadvocate.cli import preview
from tests.conftest import REPO, Make
from tests.fakes.github import GitHubFake, serve
from tests.test_cli import run
from tests.test_startup import HEAVY_LOADED, PROBE

MD = MarkdownIt("commonmark", {"html": True}).enable("table")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}
# What GitHub would turn into a mention or an issue link in rendered text (not in code).
MENTION = re.compile(r"@[A-Za-z0-9]|#[0-9]")
HOSTILE = (
    "Hi @octocat, see #12 and GH-3 ``` <script>alert(1)</script> ```` </details> "
    "[x](javascript:alert(1)) **bold** <!-- $x$"
)


def _fences(markdown: str) -> list[str]:
    return [t.content for t in MD.parse(markdown) if t.type == "fence"]


def _outside_code(markdown: str) -> str:
    """Every piece of text GitHub would render outside code, as plain text."""
    out: list[str] = []

    def walk(tokens: list[Token]) -> None:
        for token in tokens:
            if token.type in ("fence", "code_block", "code_inline"):
                continue
            if token.type in ("text", "html_inline", "html_block"):
                out.append(token.content)
            walk(token.children or [])

    walk(MD.parse(markdown))
    return "\n".join(out)


def _html_tags(markdown: str) -> list[str]:
    """The raw HTML a comment would carry (GitHub sanitises it, but none should come from posts)."""
    return [
        t.content
        for t in MD.parse(markdown)
        for t in [t, *(t.children or [])]
        if t.type in ("html_inline", "html_block")
    ]


# -- markdown -----------------------------------------------------------------------------------
def test_problems_come_first_errors_before_warnings_with_file_and_line(make_campaign: Make) -> None:
    make_campaign(
        """
        posts:
          - id: fine
            at: 2026-12-03 18:00
            accounts: [masto]
            text: All good here.
          - id: too-long
            at: 2026-12-04 18:00
            accounts: [x-main]
            split: never
            text: "{long}"
            vars: {long: "%s"}
          - id: lowercase
            at: 2026-12-05 18:00
            accounts: [masto]
            text: "Join us #fundourschools"
        """
        % ("word " * 80)
    )
    result = run("render", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(preview.MARKER + "\n## eduadvocate preview: 3 posts, 3 deliveries")
    assert "✗ 1 error, 1 warning" in out.splitlines()[1]
    problems = out.index("### Problems")
    error = out.index("**error** `over-limit` `posts/posts.yaml:")
    warning = out.index("**warning** `hashtag-case` `posts/posts.yaml:")
    first_post = out.index("### `fine`")
    assert problems < error < warning < first_post < out.index("### `too-long`")
    assert "**1 error** (see Problems)" in out.split("### `too-long`")[1].split("###")[0]
    assert "`posts/posts.yaml:3` · goes out Thu 2026-12-03 18:00 CST" in out
    assert "**x-main** (x) · ✗ 400/280, 120 over the limit" in out
    assert _fences(out) == ["All good here.\n", "word " * 80 + "\n", "Join us #fundourschools\n"]
    assert "Made by eduadvocate" in out.rstrip().splitlines()[-1]


def test_threads_media_alt_text_and_each_accounts_time(make_campaign: Make) -> None:
    root = make_campaign(
        """
        posts:
          - id: thread
            at: 2026-12-03 18:00
            accounts: [x-main]
            thread:
              - First part.
              - Second part.
            media:
              - {path: media/a.png, alt: "A chart of @cuts"}
        """
    )
    (root / "media").mkdir()
    (root / "media" / "a.png").write_bytes(_png())
    out = run("render", "--format", "markdown").stdout
    assert "**x-main** (x) · a thread of 2 parts" in out
    assert "Part 1/2 · ✓ 11/280" in out and "Part 2/2 · ✓ 12/280" in out
    assert _fences(out) == ["First part.\n", "Second part.\n"]
    assert "- media `media/a.png` (alt: A chart of \\@\u200bcuts)" in out


def test_a_video_shows_its_length_size_shape_captions_and_thumbnail(make_campaign: Make) -> None:
    """A reviewer sees what the video is without opening it: as render shows it (issue 16)."""
    from tests.mp4 import write_video

    root = make_campaign(
        """
        posts:
          - id: clip
            at: 2026-12-03 18:00
            accounts: [masto]
            text: Hear it from the teachers.
            media:
              - path: media/v.mp4
                alt: "A teacher speaks"
                captions: {en: media/v.en.vtt}
                thumbnail: media/frame.png
        """
    )
    write_video(root / "media" / "v.mp4", seconds=31.5, width=1280, height=720)
    (root / "media" / "v.en.vtt").write_text("WEBVTT\n\n00:00.500 --> 00:03.000\nHi\n")
    (root / "media" / "frame.png").write_bytes(_png())
    out = run("render", "--format", "markdown").stdout
    size = f"{(root / 'media' / 'v.mp4').stat().st_size:,} bytes"
    assert (
        f"- video `media/v.mp4` (alt: A teacher speaks) · 0:31.5, 1280×720, {size}"
        " · captions: en `media/v.en.vtt` · thumbnail `media/frame.png`"
    ) in out, out


def test_a_hostile_text_stays_in_its_block_and_nothing_outside_is_markup(
    make_campaign: Make,
) -> None:
    make_campaign(
        {
            "posts.yaml": f"""
            posts:
              - id: hostile
                at: 2026-12-03 18:00
                accounts: [masto]
                content_warning: "@cw <b>bold</b> #7"
                text: {json.dumps(HOSTILE)}
            """
        }
    )
    out = run("render", "--format", "markdown").stdout
    assert _fences(out) == [HOSTILE + "\n"]
    assert not MENTION.search(_outside_code(out))
    assert _html_tags(out) == [preview.MARKER + "\n", "<sub>", "</sub>"]
    assert "<script" not in MD.render(out)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
def test_any_text_is_one_code_block_and_any_value_is_plain_text(value: str) -> None:
    """The class of the defect: for every text, the fence holds it whole, and escaped text is
    literal (the same characters, no markup, no HTML, no mention or reference)."""
    expected = value.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    tokens = MD.parse(f"before\n\n{preview.fenced(value)}\n\nafter")
    kinds = [t.type for t in tokens]
    assert kinds.count("fence") == 1
    assert tokens[kinds.index("fence")].content == expected + "\n"
    assert [t.content for t in tokens if t.type == "inline"] == ["before", "after"]

    line = f"- item: {preview.text(value)} end"
    (inline,) = [t for t in MD.parse(line) if t.type == "inline"]
    assert {c.type for c in inline.children or []} <= {"text"}
    shown = "".join(c.content for c in inline.children or [])
    shown = shown.removeprefix("item: ").removesuffix(" end")
    collapsed = " ".join(value.split())
    assert shown.replace("\u200b", "") == "".join(
        ch if ch.isprintable() else "\ufffd" for ch in collapsed
    )
    assert not MENTION.search(shown)


def test_the_comment_stays_under_githubs_limit_and_says_what_it_left_out(
    make_campaign: Make,
) -> None:
    words = "Fund our schools. " * 25
    posts = "".join(
        f"""
          - id: post-{i}
            at: 2026-12-03 18:00
            accounts: [masto]
            text: "{words}{i}"
        """
        for i in range(200)
    )
    make_campaign("posts:" + posts)
    out = run("render", "--format", "markdown").stdout
    assert preview.width(out) <= preview.COMMENT_LIMIT
    match = re.search(r"\*\*(\d+) more posts left out to stay under GitHub's comment limit", out)
    assert match, out[-500:]
    shown = out.count("\n### `post-")
    assert shown + int(match[1]) == 200
    assert "`eduadvocate render` shows them all" in out


def test_a_file_that_cannot_be_read_is_a_problem_in_the_preview_not_a_refusal(
    make_campaign: Make,
) -> None:
    make_campaign(
        {
            "good.yaml": "posts:\n  - {id: ok, at: 2026-12-03 18:00, accounts: [masto], text: Hi}\n",
            "broken.yaml": "posts: [\n",
        }
    )
    result = run("render", "--format", "markdown")
    assert result.returncode == 0
    assert "**error** `invalid-yaml` `posts/broken.yaml:" in result.stdout
    assert "### `ok`" in result.stdout
    assert run("render").returncode == 4  # text and json still refuse, as before


def test_markdown_imports_no_network_library() -> None:
    args = ["render", "--config", "config.example.yaml", "--format", "markdown"]
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, loaded=HEAVY_LOADED)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.stderr.strip().splitlines()[-1:] in ([], [""])


# -- --changed-since ----------------------------------------------------------------------------
BASE = {
    "a.yaml": """
        posts:
          - id: kept
            at: 2026-12-03 18:00
            accounts: [masto]
            text: Kept as it was.
          - id: edited
            at: 2026-12-04 18:00
            accounts: [masto]
            text: Before the edit.
          - id: removed
            at: 2026-12-05 18:00
            accounts: [masto]
            text: Going away.
        """,
    "b.yaml": """
        posts:
          - id: renamed
            at: 2026-12-06 18:00
            accounts: [masto]
            text: In a file that gets a new name.
        """,
}


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(root), **GIT_ENV},
    )
    return done.stdout


@pytest.fixture
def repo(make_campaign: Make) -> Path:
    root = make_campaign(BASE)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    return root


def _edit(root: Path) -> None:
    a = (root / "posts" / "a.yaml").read_text()
    a = a.replace("Before the edit.", "After the edit.")
    gone = (
        "  - id: removed\n    at: 2026-12-05 18:00\n    accounts: [masto]\n    text: Going away.\n"
    )
    assert gone in a
    a = a.replace(gone, "")
    # A comment moves every post down a line: no post changes for that.
    a = "# reordered\n" + a
    a += "  - id: new\n    at: 2026-12-07 18:00\n    accounts: [masto]\n    text: Brand new.\n"
    (root / "posts" / "a.yaml").write_text(a)
    _git(root, "mv", "posts/b.yaml", "posts/c.yaml")


def test_changed_since_shows_new_and_edited_posts_and_lists_removed_ones(repo: Path) -> None:
    _edit(repo)
    result = run("render", "--format", "markdown", "--changed-since", "main")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "2 posts changed since `main` (1 new, 1 edited, 1 removed)" in out
    assert "### `edited` · edited" in out and "### `new` · new" in out
    assert "### Removed (1)" in out and "- `removed` (was at `posts/a.yaml:11`)" in out
    assert "`kept`" not in out and "`renamed`" not in out
    assert _fences(out) == ["After the edit.\n", "Brand new.\n"]
    assert "--changed-since main" in out.rstrip().splitlines()[-1]


def test_changed_since_filters_text_and_json_too(repo: Path) -> None:
    _edit(repo)
    result = run("render", "--format", "json", "--changed-since", "main")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [d["post"] for d in data["deliveries"]] == ["edited", "new"]
    assert data["changed_since"] == {
        "ref": "main",
        "new": ["new"],
        "edited": ["edited"],
        "removed": [{"post": "removed", "file": "posts/a.yaml", "line": 11}],
    }
    text = run("render", "--changed-since", "main").stdout
    assert "edited → masto" in text and "kept" not in text
    assert "Since main: 1 new, 1 edited, removed: removed." in text
    narrowed = json.loads(
        run("render", "--format", "json", "--changed-since", "main", "--post", "kept").stdout
    )
    assert narrowed["deliveries"] == []


def test_nothing_changed_says_so(repo: Path) -> None:
    out = run("render", "--format", "markdown", "--changed-since", "HEAD").stdout
    assert "0 posts changed since `HEAD` (0 new, 0 edited, 0 removed)" in out
    assert "No post changed." in out
    assert _fences(out) == []


def test_a_media_file_changed_under_the_same_name_edits_its_posts(make_campaign: Make) -> None:
    root = make_campaign(
        "posts:\n  - {id: pic, at: 2026-12-03 18:00, accounts: [masto], text: Look,"
        " media: [{path: media/a.png, alt: A chart}]}\n"
    )
    (root / "media").mkdir()
    (root / "media" / "a.png").write_bytes(_png())
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "base")
    assert "0 new, 0 edited" in run("render", "-f", "markdown", "--changed-since", "main").stdout
    (root / "media" / "a.png").write_bytes(_png(color=(0, 0, 255)))
    assert "0 new, 1 edited" in run("render", "-f", "markdown", "--changed-since", "main").stdout


def test_a_file_that_cannot_be_read_now_does_not_list_its_posts_as_removed(repo: Path) -> None:
    (repo / "posts" / "b.yaml").write_text("posts: [\n")
    out = run("render", "--format", "markdown", "--changed-since", "main").stdout
    assert "### Removed" not in out
    assert "**error** `invalid-yaml` `posts/b.yaml:" in out


TEXTS = st.text(
    st.characters(categories=["L", "N", "P", "S", "Zs"], exclude_characters="\ufeff"),
    min_size=1,
    max_size=20,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), TEXTS, max_size=4),
    after=st.dictionaries(st.sampled_from(["a", "b", "c", "e"]), TEXTS, max_size=4),
    padding=st.integers(min_value=0, max_value=3),
    reverse=st.booleans(),
)
def test_changes_are_exactly_the_posts_whose_content_differs(
    before: dict[str, str], after: dict[str, str], padding: int, reverse: bool
) -> None:
    """The class: whatever moves (lines, order), new, edited and removed are exactly the ids
    added, whose text differs, and dropped."""
    from eduadvocate.campaign.workspace import open_campaign
    from eduadvocate.cli.changes import changes_since

    def posts(texts: dict[str, str], pad: int, backwards: bool) -> str:
        ids = sorted(texts, reverse=backwards)
        entries = "".join(
            f"{chr(10) * pad}  - id: {i}\n    at: 2026-12-03 18:00\n    accounts: [outbox]\n"
            f"    text: {json.dumps(texts[i], ensure_ascii=False)}\n"
            for i in ids
        )
        return f"{'# note' + chr(10) if pad else ''}posts:\n{entries}" if ids else "posts: []\n"

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "posts").mkdir()
        (root / "config.yaml").write_text(
            "defaults: {timezone: UTC}\naccounts:\n  outbox: {platform: outbox}\n"
        )
        (root / "posts" / "p.yaml").write_text(posts(before, 0, False))
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "base")
        (root / "posts" / "p.yaml").write_text(posts(after, padding, reverse))
        ws = open_campaign(None, str(root))
        loaded = {p.id: p.content.text for p in ws.campaign.posts}
        assume(loaded == after)  # texts YAML reads back as written (no stray comment)
        changes = changes_since(ws, "main")
    assert changes.new == set(after) - set(before)
    assert changes.edited == {i for i in set(after) & set(before) if after[i] != before[i]}
    assert {r.id for r in changes.removed} == set(before) - set(after)


@pytest.mark.parametrize(
    ("setup", "ref", "said"),
    [
        ("no-repo", "main", "is not in a git repository, so --changed-since main has nothing"),
        ("repo", "nope", 'git knows no commit "nope". fetch it first'),
        ("repo", "--output=x", '"--output=x" is not a git ref'),
        ("no-git", "main", "--changed-since needs git, which is not installed here"),
    ],
)
def test_changed_since_errors_are_one_line_usage_errors(
    make_campaign: Make, tmp_path: Path, setup: str, ref: str, said: str
) -> None:
    root = make_campaign(BASE)
    env = None
    if setup == "repo":
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "base")
    if setup == "no-git":
        env = {"PATH": str(tmp_path / "empty")}
    if setup == "no-repo":
        env = {"GIT_CEILING_DIRECTORIES": str(root.parent)}
    result = run("render", "--format", "markdown", "--changed-since", ref, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# -- github comment -------------------------------------------------------------------------------
TOKEN = "ghs_distinctiveTOKEN0123456789abcdef"
REPOSITORY = "pta/campaign"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubFake]:
    import os

    for name in [n for n in os.environ if n.startswith("GITHUB_")]:  # a CI runner's own
        monkeypatch.delenv(name)
    served = serve()
    fake = next(served)
    fake.add_token(TOKEN)
    fake.add_pull(REPOSITORY, 7)
    yield fake
    served.close()


def _env(fake: GitHubFake, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": fake.url,
        **extra,
    }


def _comment(tmp_path: Path, fake: GitHubFake, body: str, *args: str, **env: str) -> Any:
    path = tmp_path / "preview.md"
    path.write_text(body)
    return run("github", "comment", str(path), *args, env=_env(fake, **env))


def test_the_first_run_posts_one_comment_and_the_next_updates_it(
    github: GitHubFake, tmp_path: Path
) -> None:
    github.add_comment(REPOSITORY, 7, "Looks good to me", "volunteer")
    first = _comment(tmp_path, github, f"{preview.MARKER}\nfirst", "--pr", "7")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("eduadvocate: posted the preview on pull request #7: https://")
    second = _comment(tmp_path, github, f"{preview.MARKER}\nsecond", "--pr", "7")
    assert second.returncode == 0, second.stderr
    assert "updated the preview" in second.stdout
    bodies = [c["body"] for c in github.comments_on(REPOSITORY, 7)]
    assert bodies == ["Looks good to me", f"{preview.MARKER}\nsecond"]
    assert [r.method for r in github.requests] == ["GET", "POST", "GET", "PATCH"]


def test_the_pull_request_comes_from_the_event_and_the_marker_is_added(
    github: GitHubFake, tmp_path: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": 7}}))
    result = _comment(tmp_path, github, "no marker here", GITHUB_EVENT_PATH=str(event))
    assert result.returncode == 0, result.stderr
    (posted,) = github.comments_on(REPOSITORY, 7)
    assert posted["body"] == f"{preview.MARKER}\nno marker here"


def test_every_page_is_read_to_find_the_earlier_comment(github: GitHubFake, tmp_path: Path) -> None:
    for i in range(230):
        github.add_comment(REPOSITORY, 7, f"comment {i}", "volunteer")
    github.add_comment(REPOSITORY, 7, f"{preview.MARKER}\nold", "github-actions[bot]")
    result = _comment(tmp_path, github, f"{preview.MARKER}\nnew", "--pr", "7")
    assert result.returncode == 0, result.stderr
    assert [r.method for r in github.requests] == ["GET", "GET", "GET", "PATCH"]
    assert [r.path.rsplit("page=", 1)[-1] for r in github.requests[1:3]] == ["2", "3"]
    assert github.comments_on(REPOSITORY, 7)[-1]["body"] == f"{preview.MARKER}\nnew"
    assert len(github.comments_on(REPOSITORY, 7)) == 231


def test_someone_elses_comment_with_the_marker_is_left_alone(
    github: GitHubFake, tmp_path: Path
) -> None:
    """Anyone can write the marker; only a comment the token may edit is updated."""
    github.add_comment(REPOSITORY, 7, f"{preview.MARKER}\nfake preview", "mallory")
    for run_number in (1, 2):
        result = _comment(tmp_path, github, f"{preview.MARKER}\nrun {run_number}", "--pr", "7")
        assert result.returncode == 0, result.stderr
    bodies = [(c["user"]["login"], c["body"]) for c in github.comments_on(REPOSITORY, 7)]
    assert bodies == [
        ("mallory", f"{preview.MARKER}\nfake preview"),
        ("github-actions[bot]", f"{preview.MARKER}\nrun 2"),
    ]


def test_a_next_page_on_another_host_is_not_followed(github: GitHubFake, tmp_path: Path) -> None:
    for i in range(120):
        github.add_comment(REPOSITORY, 7, f"comment {i}", "volunteer")
    github.link_base = "http://127.0.0.2:9"
    result = _comment(tmp_path, github, "hi", "--pr", "7")
    assert result.returncode == 5
    assert "a next-page link to another host (not followed)" in result.stderr
    assert len(github.requests) == 1


def test_the_token_goes_only_in_the_authorization_header(
    github: GitHubFake, tmp_path: Path
) -> None:
    result = _comment(tmp_path, github, "hello", "--pr", "7")
    assert result.returncode == 0
    for request in github.requests:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        others = {k: v for k, v in request.headers.items() if k != "Authorization"}
        assert TOKEN not in json.dumps(others) + request.path
        assert TOKEN.encode() not in request.body
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("read-only", "the token lacks pull-requests: write (a pull request from a fork gets a"),
        ("unknown-pr", "GitHub has no pull request #8 in pta/campaign that this token can see"),
        ("bad-token", "GitHub refused the token (401: Bad credentials)"),
    ],
)
def test_github_refusals_are_one_line_and_exit_5(
    github: GitHubFake, tmp_path: Path, case: str, said: str
) -> None:
    token, pr = TOKEN, "7"
    if case == "read-only":
        token = "ghs_readonlyTOKEN9876543210"
        github.add_token(token, write=False)
    if case == "unknown-pr":
        pr = "8"
    if case == "bad-token":
        token = "ghs_wrongTOKEN5555555555"
    result = _comment(tmp_path, github, "hi", "--pr", pr, GITHUB_TOKEN=token)
    assert result.returncode == 5
    assert result.stderr.count("\n") == 1 and said in result.stderr, result.stderr
    assert token not in result.stdout + result.stderr
    assert github.comments_on(REPOSITORY, 7) == []


def test_github_out_of_reach_is_one_line_and_exit_5(github: GitHubFake, tmp_path: Path) -> None:
    nothing = "http://127.0.0.1:1"  # nothing listens on port 1: refused at once
    result = _comment(tmp_path, github, "hi", "--pr", "7", GITHUB_API_URL=nothing)
    assert result.returncode == 5
    assert result.stderr == (
        "eduadvocate: error: could not reach GitHub at 127.0.0.1:1 (ConnectionError). check"
        " GITHUB_API_URL and the runner's network, then run the job again\n"
    )


@pytest.mark.parametrize(
    ("unset", "said"),
    [
        ("GITHUB_TOKEN", "GITHUB_TOKEN is not set"),
        ("GITHUB_REPOSITORY", 'GITHUB_REPOSITORY is "", not owner/name'),
        ("--pr", "no pull request number: GITHUB_EVENT_PATH is not set. pass --pr N"),
    ],
)
def test_missing_settings_are_usage_errors(
    github: GitHubFake, tmp_path: Path, unset: str, said: str
) -> None:
    path = tmp_path / "preview.md"
    path.write_text("hi")
    env = {k: v for k, v in _env(github).items() if k != unset}
    args = [] if unset == "--pr" else ["--pr", "7"]
    result = run("github", "comment", str(path), *args, env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and said in result.stderr, result.stderr
    assert github.requests == []


def _png(color: tuple[int, int, int] = (255, 0, 0)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, "PNG")
    return buffer.getvalue()
