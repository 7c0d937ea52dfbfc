"""The platform names (platforms/registry.py ``platform_names``) scan the installed packages'
entry points only when a name that is not built in is looked up or the names are listed, and
answer as the set they replaced (the built-ins with every registered name) did: for any name,
with a package registering one more platform installed or not; and a whole ``check`` of a
campaign that uses, misspells and overrides a registered platform prints what it printed."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.platforms import registry
from tests.conftest import REPO, Make
from tests.test_cli import run

PLUGIN = "outbox2"  # a second outbox, registered by a package as another platform would be


def old_platform_names() -> frozenset[str]:
    """The set as it was built before (every name, the packages scanned at once)."""
    return frozenset(registry.BUILTINS) | frozenset(registry._entry_points())


def _clear() -> None:
    for cached in (registry._entry_points, registry._all_names, registry.spec_class):
        cached.cache_clear()
    importlib.invalidate_caches()


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installed distribution whose entry point registers :data:`PLUGIN`."""
    dist = tmp_path / "site" / "eduadvocate_outbox2-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: eduadvocate-outbox2\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(f"[{registry.GROUP}]\n{PLUGIN} = outbox2:Outbox2\n")
    (dist.parent / "outbox2.py").write_text(
        "from eduadvocate.platforms.outbox.spec import OutboxPlatform\n\n\n"
        f"class Outbox2(OutboxPlatform):\n    name = {PLUGIN!r}\n"
    )
    monkeypatch.syspath_prepend(str(dist.parent))
    _clear()
    yield dist.parent
    monkeypatch.undo()
    sys.modules.pop("outbox2", None)
    _clear()


names = st.sampled_from(
    [*registry.BUILTINS, PLUGIN, "name", "twitter", "X", "outbox3", ""]
) | st.text(max_size=8)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(names, max_size=6))
def test_the_names_answer_as_the_set_they_replaced(plugin: Path, asked: list[str]) -> None:
    _clear()  # (each example starts with nothing scanned, and asks in its own order)
    lazy = registry.platform_names()
    assert [name in lazy for name in asked] == [name in old_platform_names() for name in asked]
    assert set(lazy) == old_platform_names() and len(lazy) == len(old_platform_names())
    assert PLUGIN in lazy


def test_a_built_in_name_is_answered_without_the_scan() -> None:
    code = (
        "import sys\nfrom eduadvocate.platforms.registry import platform_names\n"
        "names = platform_names()\nassert all(n in names for n in ('x', 'bluesky', 'outbox'))\n"
        "print('importlib.metadata' in sys.modules)\n"
        "assert 'nope' not in names\nprint('importlib.metadata' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.split() == ["False", "True"]


CONFIG = """\
defaults:
  timezone: America/Chicago
  accounts: [x-main, o2]
accounts:
  x-main: {platform: x}
  o2: {platform: outbox2}
  o3: {platform: outbox3}
  o4: {}
"""

PEOPLE = """\
lopez:
  name: Chair Maria Lopez
  x: ChairLopez
  outbox2: lopez
  outbx2: typo
"""

POSTS = """\
- id: one
  at: 2026-12-01 09:00
  text: Hello {@lopez}
  outbox2: {text: "Hello {@lopez} on the second outbox"}
- id: two
  at: 2026-12-01 10:00
  text: Again
  outbox3: {text: no such platform}
  outbx2: {text: a typo}
"""


# What render reads: no mistake (it would refuse), the registered platform's handle and override.
VALID = CONFIG.replace("  o3: {platform: outbox3}\n  o4: {}\n", "")
VALID_PEOPLE = PEOPLE.replace("  outbx2: typo\n", "")
VALID_POSTS = POSTS.split("- id: two", maxsplit=1)[0]


@pytest.mark.parametrize(
    ("args", "files"),
    [
        (["check", "--format", "json"], (CONFIG, PEOPLE, POSTS)),
        (["check", "--format", "github"], (CONFIG, PEOPLE, POSTS)),
        (["check"], (CONFIG, PEOPLE, POSTS)),
        (["render", "--format", "json"], (VALID, VALID_PEOPLE, VALID_POSTS)),
    ],
    ids=["check json", "check github", "check text", "render json"],
)
def test_a_registered_platform_is_read_as_it_was(
    plugin: Path,
    make_campaign: Make,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    files: tuple[str, str, str],
) -> None:
    """Its accounts, overrides and people's handles, and misspelt names' suggestions."""
    config, people, posts = files
    make_campaign(posts, config=config, people=people)
    now = run(*args)
    for module in ("eduadvocate.campaign.workspace", "eduadvocate.compose.check"):
        monkeypatch.setattr(f"{module}.platform_names", old_platform_names)
    before = run(*args)
    assert (now.returncode, now.stdout, now.stderr) == (
        before.returncode,
        before.stdout,
        before.stderr,
    )
    assert PLUGIN in now.stdout + now.stderr
    if args[0] == "render":
        assert "Hello @lopez on the second outbox" in now.stdout  # (its handle there)
