"""Getting posts out exactly once: planning what is due (one planner), the dispatcher that
claims and publishes, the one-shot ``publish`` run, the ``schedule`` loop and the heartbeat
that keeps a worker's claims alive.

May import: every part below it (``metrics`` and down); never ``cli``.
"""
