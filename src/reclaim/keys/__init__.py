"""Key rotation: moving encrypted fields and the quarantine to the current key, and
starting a new segment of the audit chain under a new audit key (``rotation``)."""
