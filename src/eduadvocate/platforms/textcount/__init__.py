"""Text as each platform counts and reads it: X's weighted length and entities (``twitter``, an
exact port of twitter-text), graphemes, Mastodon's length rule and Bluesky's facets
(``unicode``, ``facets``). Every scan is linear in the text, which is untrusted.

May import: nothing else of eduadvocate; the platform interface and the adapters build on it.
"""
