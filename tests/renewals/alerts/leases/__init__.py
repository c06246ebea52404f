"""Alert deliveries when workers die and when sends fail (issue #16, points 7 and 8).

Real processes, real signals: a delivery worker in a process of its own (the `deliver_alerts`
task function) posts to a local webhook that hangs on request; the test SIGKILLs (or SIGSTOPs) it
mid-send, and checks that the claimed deliveries are taken over at once (or when the lease ends),
that the one in flight is sent again at most once with the same idempotency key, and, with a real
django-q2 cluster, that a task stopped at Q_TIMEOUT is recovered the same way and that retries
leave when their back-off ends, not at the next tick.
"""
