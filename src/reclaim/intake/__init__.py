"""Intake: what reporters send through the portal, checked and stored; check-my-case."""
