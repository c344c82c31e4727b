"""Hand over: a reply leaves in the passive window when the deadline allows, else by the outbox."""
