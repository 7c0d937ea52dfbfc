"""Rich-text facets: links, mentions and tags found in a text, at UTF-8 byte offsets (Bluesky's
model). :func:`~eduadvocate.platforms.textcount.unicode.bluesky_facets` finds them, a platform's
spec returns them and a publisher sends them; the platform interface re-exports both names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FacetKind = Literal["link", "mention", "tag"]


@dataclass(frozen=True, slots=True)
class Facet:
    """A rich-text feature over a byte range of the UTF-8 text (Bluesky's model)."""

    kind: FacetKind
    byte_start: int
    byte_end: int
    # The link's URI, the mentioned handle (its DID is resolved when publishing), or the tag.
    value: str
