"""Demo data for a development instance (`reclaim demo`)."""
