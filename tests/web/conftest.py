from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from huey import MemoryHuey

from reclaim.config import Settings
from reclaim.web.app import create_app


@pytest.fixture
def app(db_settings: Settings) -> FastAPI:
    return create_app(db_settings, huey=MemoryHuey("test", immediate=True))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client
