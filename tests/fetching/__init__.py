"""Tests for reclaim.fetching: the safe fetcher and the encrypted quarantine."""
