"""The tree reads like the domain, and stays so (docs/architecture.md).

Checked here, beside the import-linter contracts in pyproject.toml: every feature
package has its pure ``domain.py``; tables are declared only in ``models.py`` files;
every status enum has a state machine naming all its members; no flat ``services/``
comes back; feature modules stay small enough to read.
"""

from __future__ import annotations

import ast
import enum
import importlib
import pkgutil
from pathlib import Path

import pytest

import reclaim
from reclaim.domain.states import StateMachine
from reclaim.migrations import schema
from reclaim.storage.base import Base

SOURCE = Path(reclaim.__file__).parent
FEATURES = (
    "accounts",
    "audit",
    "banks",
    "cases",
    "intake",
    "linkage",
    "oversight",
    "partners",
    "platforms",
    "referrals",
    "statistics",
    "takedown",
)
#: Features with tables; the rest keep none of their own (yet).
WITH_TABLES = (
    "accounts",
    "audit",
    "banks",
    "cases",
    "linkage",
    "partners",
    "platforms",
    "takedown",
)
#: A module past this is probably two modules (STYLE.md: "~400 lines").
MAX_LINES = 450


def all_modules() -> list[str]:
    return [m.name for m in pkgutil.walk_packages(reclaim.__path__, "reclaim.")]


@pytest.mark.parametrize("feature", FEATURES)
def test_every_feature_has_its_pure_domain_module(feature: str) -> None:
    assert (SOURCE / feature / "domain.py").is_file()


@pytest.mark.parametrize("feature", WITH_TABLES)
def test_features_with_tables_declare_them_in_models(feature: str) -> None:
    assert (SOURCE / feature / "models.py").is_file()
    assert importlib.import_module(f"reclaim.{feature}.models") in schema.MODEL_MODULES


def test_no_mapped_class_lives_outside_a_models_module() -> None:
    places = {mapper.class_.__module__ for mapper in Base.registry.mappers}
    assert places, "no mapped classes found"
    assert all(module.endswith(".models") for module in places), sorted(places)
    declared = {module.__name__ for module in schema.MODEL_MODULES}
    assert places <= declared


def test_there_is_no_flat_services_package() -> None:
    assert not (SOURCE / "services").exists()
    assert not any(name.startswith("reclaim.services") for name in all_modules())


def status_enums() -> list[type[enum.Enum]]:
    found: dict[str, type[enum.Enum]] = {}
    for name in all_modules():
        if name.endswith(".env"):  # alembic's, runs only under alembic
            continue
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, enum.Enum)
                and value.__name__.endswith("Status")
                and value.__module__ == name
            ):
                found[f"{name}.{value.__name__}"] = value
    return list(found.values())


def state_machines() -> dict[type[enum.Enum], StateMachine]:  # type: ignore[type-arg]
    machines = {}
    for name in all_modules():
        if name.endswith(".env"):
            continue
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, StateMachine):
                machines[value.states] = value
    return machines


def test_every_status_enum_has_a_state_machine_covering_all_its_members() -> None:
    enums = status_enums()
    machines = state_machines()
    assert {e.__name__ for e in enums} >= {
        "CaseStatus",
        "DecisionStatus",
        "NoticeStatus",
        "DeliveryStatus",
    }
    for status in enums:
        assert status in machines, f"{status.__name__} has no StateMachine"
        assert set(machines[status].transitions) == set(status)


def test_feature_modules_stay_readable() -> None:
    long = {}
    for feature in FEATURES:
        for path in (SOURCE / feature).glob("*.py"):
            lines = len(path.read_text().splitlines())
            if lines > MAX_LINES:
                long[str(path.relative_to(SOURCE))] = lines
    assert not long, f"split these modules: {long}"


def test_domain_modules_import_no_framework() -> None:
    """The import-linter contract says so too; this names the offending line."""
    banned = ("sqlalchemy", "fastapi", "starlette", "huey", "alembic", "httpx")
    for feature in FEATURES:
        path = SOURCE / feature / "domain.py"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(banned), f"{path}: {node.module}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(banned), f"{path}: {alias.name}"
