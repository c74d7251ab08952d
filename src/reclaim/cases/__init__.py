"""Case work: cases, reports and items, triage, review into the quarantine, decisions, retention."""
