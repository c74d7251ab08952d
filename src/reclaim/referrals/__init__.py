"""Referrals of cases to social workers and police, with evidence packages (issue 13)."""
