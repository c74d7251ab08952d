"""Console routes: audit_trail."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
