"""Referrals: pure values and the referral state machine (issue 13 fills this in)."""
