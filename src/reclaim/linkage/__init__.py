"""Linkage: offender identifiers; cases linked by them, by media, pages and threat scripts."""
