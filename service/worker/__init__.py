"""Background work: periodic SOP starts and due timers; the outbox (mail) comes with public intake."""
