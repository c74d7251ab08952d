"""The platform directory: which platform hosts a URL, and how to reach it."""
