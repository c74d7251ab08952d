"""Bulk scanning: folders, archives and URL lists hashed on Dask and matched against the banks."""
