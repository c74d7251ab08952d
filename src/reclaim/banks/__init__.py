"""Hash banks: signals, banks and their entries, import and export formats, the hash
feed, the match engine."""
