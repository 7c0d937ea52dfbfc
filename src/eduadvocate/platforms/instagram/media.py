"""Where Instagram fetches a campaign's media from: the account's ``media_base_url`` joined with
the file's path in the campaign folder. The rules (``spec``) check that every file has such an
address; the client (``client``) sends it.
"""

from __future__ import annotations


def media_url(base: str, path: str) -> str | None:
    """The public URL of a media file (``media_base_url`` + its path in the campaign folder), or
    None when the path cannot be published under it (absolute, or climbing out with ..)."""
    clean = path.replace("\\", "/").removeprefix("./")
    if not base or clean.startswith("/") or ".." in clean.split("/"):
        return None
    return base.rstrip("/") + "/" + clean
