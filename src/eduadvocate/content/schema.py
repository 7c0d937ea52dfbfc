"""The posts format, declared once: the loader validates against these tables and
``eduadvocate schema`` prints them as JSON Schema, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from eduadvocate.config.utm import UTM_KEYS

Kind = Literal[
    "string", "bool", "strings", "string-map", "media", "thread", "utm", "enum", "posts", "override"
]

# For JSON Schema (ECMA-262: "$" is the end of input). Python must use it with re.fullmatch, since
# there "$" also matches before a final newline and "trail\n" would pass.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# A captions file's language (``captions: {en: …}``): en, pt-BR, zh-Hant-TW.
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,3}$"
SCHEMA_ID = "https://eduadvocate.example/schema/posts.schema.json"


@dataclass(frozen=True, slots=True)
class Field:
    kind: Kind
    description: str
    choices: tuple[str, ...] = ()
    required: bool = False
    pattern: str | None = None


_CONTENT: dict[str, Field] = {
    "text": Field(
        "string", "The post's text. {var} inserts a campaign variable, {@person} a mention."
    ),
    "thread": Field("thread", "An explicit thread: a list of parts, posted as replies in order."),
    "media": Field(
        "media",
        "Images or videos: a list of {path, alt} (a video may add captions and thumbnail); path"
        " relative to the campaign folder.",
    ),
    "link": Field(
        "string", "A link appended to the text (tagged with UTM parameters unless switched off)."
    ),
    "hashtags": Field("strings", "Extra hashtags for this post, appended where they fit."),
    "split": Field(
        "enum",
        "auto: split text over the limit into a thread; never: report it.",
        ("auto", "never"),
    ),
    "numbering": Field(
        "bool", "Number the parts of an automatically split thread (1/3, 2/3, 3/3)."
    ),
    "content_warning": Field(
        "string", "Content warning (Mastodon spoiler text; it counts toward the limit)."
    ),
    "card": Field(
        "bool", "Bluesky: show the link as a card (title, description and image from the page)."
    ),
}

OVERRIDE_FIELDS: dict[str, Field] = dict(_CONTENT)

POST_FIELDS: dict[str, Field] = {
    "id": Field(
        "string",
        "Unique across the folder; the post's identity forever. Never reuse or rename.",
        required=True,
        pattern=ID_PATTERN,
    ),
    "at": Field(
        "string",
        'When, once: a local time in the campaign zone ("2026-12-03 18:00"), an instant with offset '
        '("2026-12-03T18:00-06:00"), or "now" (fixed when first published).',
    ),
    "every": Field(
        "string",
        'When, repeatedly: a cron expression ("0 9 * * MON") or e.g. "weekly on Monday 09:00".',
    ),
    "from": Field("string", "First day or time a recurring post may go out."),
    "until": Field("string", "Last day or time a recurring post may go out."),
    "accounts": Field("strings", "Account names from the config; defaults to the campaign's."),
    **_CONTENT,
    "vars": Field("string-map", "Variables for this post only."),
    "language": Field("string", "Language code (e.g. en, es), for Bluesky and Mastodon."),
    "reply_to": Field(
        "string",
        "The address of a post to answer (Bluesky, Mastodon, X; on Facebook and Instagram one"
        " of the account's own posts or a comment under it): the post goes only to the"
        " accounts on that post's platform, as a reply to it.",
    ),
    "repost": Field(
        "string",
        "The address of another's post to repost (Bluesky, X) or boost (Mastodon), with no"
        " text, media, link or hashtags: it goes only to the accounts on that post's platform.",
    ),
    "quote": Field(
        "string",
        "The address of another's post to quote (Bluesky, Mastodon, X): the post's text goes"
        " out with it embedded, only to the accounts on that post's platform.",
    ),
}

FILE_FIELDS: dict[str, Field] = {
    "campaign": Field("string", "Campaign name (reports, UTM campaign)."),
    "timezone": Field("string", "IANA time zone for local times, e.g. America/Chicago."),
    "accounts": Field("strings", "Default accounts for this file's posts."),
    "hashtags": Field("strings", "Campaign hashtags appended to every post where they fit."),
    "vars": Field("string-map", "Variables such as petition: https://…, used as {petition}."),
    "utm": Field(
        "utm", "Link tagging: false to switch off, or {source, medium, campaign, content, domains}."
    ),
    "numbering": Field("bool", "Number automatically split threads (default true)."),
    "language": Field("string", "Default language code for this file's posts."),
    "posts": Field("posts", "The posts.", required=True),
}

PERSON_FIELDS = ("name",)


def json_schema(platforms: list[str]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a posts file, with one override key per platform."""
    override_props = {name: _prop(f) for name, f in OVERRIDE_FIELDS.items()}
    override = {"type": "object", "additionalProperties": False, "properties": override_props}
    post_props = {name: _prop(f) for name, f in POST_FIELDS.items()}
    for platform in platforms:
        post_props[platform] = {
            "$ref": "#/$defs/override",
            "description": f"What changes on {platform}.",
        }
    if "facebook" in post_props:  # ``facebook: {as: reel}``: the video goes out as a Reel
        reel = {"enum": ["reel"], "description": "reel: post the video as a Facebook Reel."}
        post_props["facebook"] = override | {
            "properties": override_props | {"as": reel},
            "description": "What changes on facebook.",
        }
    post = {
        "type": "object",
        "required": [n for n, f in POST_FIELDS.items() if f.required],
        "additionalProperties": False,
        "properties": post_props,
    }
    file_props = {name: _prop(f) for name, f in FILE_FIELDS.items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "eduadvocate posts file",
        "oneOf": [
            {"type": "object", "additionalProperties": False, "properties": file_props},
            {"type": "array", "items": {"$ref": "#/$defs/post"}},
        ],
        "$defs": {
            "post": post,
            "override": override,
            "media": {
                "type": "object",
                "required": ["path"],
                "additionalProperties": False,
                "properties": {
                    "path": {"type": "string", "description": "Relative to the campaign folder."},
                    "alt": {
                        "type": "string",
                        "description": "Alt text: what the image shows, for screen readers.",
                    },
                    "captions": {
                        "description": (
                            "A video's captions: a WebVTT or SRT file, a map of language code"
                            " to file ({en: media/en.vtt, es: media/es.srt}), or none (the video"
                            " needs none: no one speaks)."
                        ),
                        "oneOf": [
                            {"type": "string"},
                            {
                                "type": "object",
                                "minProperties": 1,
                                "propertyNames": {"pattern": LANGUAGE_PATTERN},
                                "additionalProperties": {"type": "string"},
                            },
                        ],
                    },
                    "thumbnail": {
                        "type": "string",
                        "description": (
                            "A video's thumbnail: an image shown before it plays, relative to the"
                            " campaign folder (sent to Mastodon; elsewhere check says it is not)."
                        ),
                    },
                },
            },
        },
    }


def _prop(f: Field) -> dict[str, Any]:
    scalar = {"type": ["string", "number", "boolean"]}
    schema: dict[str, Any]
    match f.kind:
        case "string":
            schema = dict(scalar)
        case "bool":
            schema = {"type": "boolean"}
        case "enum":
            schema = {"enum": list(f.choices)}
        case "strings":
            schema = {"type": "array", "items": {"type": "string"}}
        case "string-map":
            schema = {"type": "object", "additionalProperties": scalar}
        case "thread":
            schema = {"type": "array", "minItems": 1, "items": {"type": "string"}}
        case "media":
            schema = {
                "oneOf": [
                    {"$ref": "#/$defs/media"},
                    {"type": "array", "items": {"$ref": "#/$defs/media"}},
                ]
            }
        case "utm":
            schema = {
                "oneOf": [
                    {"type": "boolean"},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            k: (
                                {"type": "array", "items": {"type": "string"}}
                                if k == "domains"
                                else {"type": ["string", "boolean"]}
                            )
                            for k in UTM_KEYS
                        },
                    },
                ]
            }
        case "posts":
            schema = {"type": "array", "items": {"$ref": "#/$defs/post"}}
        case "override":
            schema = {"$ref": "#/$defs/override"}
    if f.pattern:
        schema = {"type": "string", "pattern": f.pattern}
    schema["description"] = f.description
    return schema
