"""Statistics: pure values (periods, cells, small-cell rules; issue 15 fills this in)."""
