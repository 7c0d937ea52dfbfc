"""Docs cannot drift: every command and every check code is in the README, and the README's first
command and the example config are what the code accepts."""

from __future__ import annotations

import re
from collections.abc import Callable

from eduadvocate.cli.main import app
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    assert "eduadvocate check --config config.example.yaml" in blocks[0]
    assert blocks[1].strip().splitlines()[-1] == "bash scripts/test"
    assert "bash scripts/test" in (REPO / ".ci" / "run").read_text()


def test_every_command_is_documented_with_help() -> None:
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert f"`eduadvocate {name}" in README, name
        assert command.help, name


def test_every_check_code_is_documented() -> None:
    codes: set[str] = set()
    for path in (REPO / "src" / "eduadvocate").rglob("*.py"):
        text = path.read_text()
        codes |= set(re.findall(r'Problem\(\s*"([a-z0-9-]+)"', text))
        codes |= set(re.findall(r'(?:error|add|problem)\(\s*"([a-z][a-z0-9]*-[a-z0-9-]+)"', text))
        codes |= set(re.findall(r'Finding\(\s*"([a-z0-9-]+)"', text))
        codes |= set(re.findall(r'code="([a-z0-9-]+)"', text))
    missing = sorted(c for c in codes if f"`{c}`" not in README)
    assert missing == []
    assert len(codes) > 30


def test_example_config_documents_every_platform() -> None:
    text = (REPO / "config.example.yaml").read_text()
    for platform in ("outbox", "x", "bluesky", "mastodon", "facebook", "instagram"):
        assert f"platform: {platform}\n" in text
    assert "${" in text


def test_committed_schema_matches_the_code() -> None:
    """posts/*.yaml point editors at .eduadvocate/posts.schema.json: it must be current."""
    import json

    from eduadvocate.content.schema import json_schema
    from eduadvocate.platforms.registry import platform_names

    committed = json.loads((REPO / ".eduadvocate" / "posts.schema.json").read_text())
    assert committed == json_schema(sorted(platform_names())), (
        "run: eduadvocate schema > .eduadvocate/posts.schema.json"
    )


def test_deployment_examples_use_real_commands() -> None:
    import yaml

    from eduadvocate.timing.timespec import parse_every

    cron = (REPO / "examples" / "crontab").read_text()
    line = next(x for x in cron.splitlines() if x.startswith("*/"))
    parse_every(" ".join(line.split()[:5]))  # a valid cron schedule
    assert "eduadvocate publish --config config.yaml" in line
    unit = (REPO / "examples" / "eduadvocate.service").read_text()
    assert "eduadvocate schedule --config config.yaml --quiet" in unit
    worker = (REPO / "examples" / "eduadvocate@.service").read_text()
    assert "eduadvocate schedule --config config.yaml --quiet" in worker
    assert "EDUADVOCATE_LEDGER=postgresql://" in worker
    workflow = yaml.safe_load((REPO / "examples" / "github-actions.yml").read_text())
    steps = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert "eduadvocate check --config config.yaml --format github" in steps
    # The text report goes to the job log and summary; tests/test_examples.py runs the steps.
    assert any("eduadvocate publish --config config.yaml" in s for s in steps)
    assert "Running it" in README


ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"
PACKAGE = REPO / "src" / "eduadvocate"


def _heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors for a Markdown file's headings: lower case, punctuation dropped, spaces
    as hyphens."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_architecture_names_every_package_and_platform_folder() -> None:
    """docs/ARCHITECTURE.md says what each part owns: a new folder (a package or a platform)
    must be added to it, as ``core/`` or ``platforms/bluesky/``."""
    from eduadvocate.platforms.registry import BUILTINS

    text = ARCHITECTURE.read_text()
    folders = {
        init.parent.relative_to(PACKAGE).as_posix()
        for init in PACKAGE.rglob("__init__.py")
        if init.parent != PACKAGE
    }
    platforms = {
        "/".join(target.partition(":")[0].split(".")[1:-1]) for target in BUILTINS.values()
    }
    assert platforms <= folders
    assert len(platforms) == len(BUILTINS)
    missing = sorted(f for f in folders | platforms if f"{f}/" not in text)
    assert missing == [], "name these folders in docs/ARCHITECTURE.md"


def test_architecture_links_point_at_files_and_headings() -> None:
    """Every relative link in docs/ARCHITECTURE.md reaches a file that exists, and a link to a
    heading (``#exit-codes``, ``../README.md#exit-codes``) reaches a heading that exists."""
    text = ARCHITECTURE.read_text()
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert len(links) > 20
    broken = []
    for link in links:
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # https:, mailto: …
            continue
        target, _, anchor = link.partition("#")
        path = (ARCHITECTURE.parent / target).resolve() if target else ARCHITECTURE
        if not path.is_file() or (anchor and anchor not in _heading_anchors(path.read_text())):
            broken.append(link)
    assert broken == []


def test_architecture_lists_every_exit_code_and_ledger_state() -> None:
    """The contracts in docs/ARCHITECTURE.md follow the code: every ExitCode (number and name)
    and every ledger state."""
    from eduadvocate.core.errors import ExitCode
    from eduadvocate.ledger.base import State

    text = ARCHITECTURE.read_text()
    for code in ExitCode:
        assert f"| {int(code)} | `{code.name}` |" in text, code
    for state in State:
        assert state.value in text, state


def test_architecture_draws_the_layers_import_linter_enforces() -> None:
    """The diagram of section 1 lists, top to bottom, the layers of pyproject.toml's ``layers``
    contract, siblings written ``a | b`` as there."""
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    (layers,) = [c["layers"] for c in contracts if c["id"] == "layers"]
    section = ARCHITECTURE.read_text().split("## 1. The parts", 1)[1]
    diagram = re.search(r"```\n(.*?)```", section, re.S)
    assert diagram is not None
    drawn = [
        match.group(1)
        for line in diagram.group(1).splitlines()
        if (match := re.match(r"[\s└─]*([a-z_]+(?: \| [a-z_]+)*)", line))
    ]
    assert drawn == layers


# -- the posts format's video table -----------------------------------------------------------------
def _seconds(text: str) -> float:
    """ "0.5 s", "2:20", "4:00:00" → seconds."""
    if text.endswith(" s"):
        return float(text[:-2])
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def _range(cell: str, read: Callable[[str], float]) -> tuple[float | None, float | None]:
    """ "A to B", "up to B", "no limit" or nothing, each bound read with ``read``; what follows
    in brackets is a note."""
    cell = re.sub(r"\s*\(.*?\)", "", cell).strip()
    if cell in ("", "no limit"):
        return None, None
    if cell.startswith("up to "):
        return None, read(cell.removeprefix("up to "))
    low, high = cell.split(" to ")
    return read(low), read(high)


def _ratio(text: str) -> float:
    width, height = text.split(":")
    return float(width) / float(height)


def _video_table() -> dict[str, dict[str, str]]:
    section = README.split("\n### Video\n", 1)[1].split("\n### ", 1)[0]
    lines = [x for x in section.splitlines() if x.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in x.strip("|").split("|")] for x in lines[2:]]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def test_the_readme_video_table_says_what_each_platform_spec_checks() -> None:
    """Every platform's row of the posts format's video table (README, "Video") matches its
    MediaRules: videos per post and whether images go beside them, size, length, shape, the
    pixel, codec and container rules, and whether a captions file is sent."""
    from eduadvocate.platforms.registry import BUILTINS, spec_class

    table = _video_table()
    assert len(table) == len(BUILTINS)
    for name in BUILTINS:
        spec = spec_class(name)
        rules = spec.media
        row = next(r for title, r in table.items() if title.lower() == spec.title.lower())
        where = f"{spec.title}: {row}"

        count, _, images = row["videos per post, with images"].partition(", ")
        assert int(count) == rules.max_videos, where
        assert images.startswith("not with") is (not rules.mix_images_and_video), where

        number, unit = re.sub(r"\s*\(.*?\)", "", row["size"]).split()
        assert round(float(number) * {"MB": 10**6, "GB": 10**9}[unit]) == rules.max_video_bytes

        seconds = (rules.video_seconds_min, rules.video_seconds_max)
        assert _range(row["length"], _seconds) == seconds, where
        shape = row["shape (width:height)"]
        aspect = (rules.video_aspect_min, rules.video_aspect_max)
        assert _range(shape, _ratio) == aspect, where
        images_shape = re.search(r"\(images: (.*?)\)", shape)
        if images_shape:
            assert _range(images_shape[1], _ratio) == (rules.aspect_min, rules.aspect_max)

        other = row["other"]
        pixels = re.search(r"(\d+)×(\d+) pixels", other)
        assert (int(pixels[1]) * int(pixels[2]) if pixels else None) == rules.video_pixels_max
        codecs = {"H.264": "h264", "HEVC": "hevc"}
        named = {codecs[c] for c in re.findall(r"H\.264|HEVC", other)} or None
        assert named == (set(rules.video_codecs) if rules.video_codecs else None), where
        assert ("MP4 only" in other) is (rules.video_types == {"video/mp4"}), where
        assert ("WebM too" in other) is ("video/webm" in rules.video_types), where

        sent = row["captions file"]
        assert (sent.startswith("yes") or sent == "written down") is rules.takes_captions, where
