"""The vocabulary every part shares: the error tree and exit codes, the clock, engagement
counts, "did you mean" and quoting a user's value (``suggest``), counting in words
(``words``), the safe YAML reader and stopping on a signal.

May import: nothing else of eduadvocate (the standard library and small libraries only).
"""
