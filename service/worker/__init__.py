"""Background work: due timers now; the outbox (mail) arrives with the public-intake issue."""
