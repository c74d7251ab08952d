"""Statistics and transparency reports computed from the case data (issue 15)."""
