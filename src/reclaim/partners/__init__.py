"""Partners: platforms' API identities, their scoped keys, and the feedback they send."""
