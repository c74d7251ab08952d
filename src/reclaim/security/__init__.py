"""Shared security mechanisms: field encryption, secret hashing, throttles."""
