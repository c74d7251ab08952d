"""Every feature's background tasks, registered on one queue.

Each feature declares its own tasks and schedule in its ``tasks.py``; ``register_tasks``
is called once per queue by each entry point that builds one (``create_app`` for the
in-process consumer, ``reclaim worker``), so both run the same tasks on the same
schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from huey import Huey
from sqlalchemy.orm import Session, sessionmaker

from reclaim.cases import tasks as case_tasks
from reclaim.config import Settings
from reclaim.domain.clock import Clock, system_clock
from reclaim.keys import tasks as key_tasks
from reclaim.linkage import tasks as linkage_tasks
from reclaim.oversight import tasks as oversight_tasks
from reclaim.referrals import tasks as referral_tasks
from reclaim.scanning import tasks as scanning_tasks
from reclaim.statistics import tasks as statistics_tasks
from reclaim.takedown import tasks as takedown_tasks


@dataclass(frozen=True, slots=True)
class Tasks:
    """The registered task functions, by feature (calling one enqueues it)."""

    cases: case_tasks.CaseTasks
    takedown: takedown_tasks.TakedownTasks
    oversight: oversight_tasks.OversightTasks
    keys: key_tasks.KeyTasks
    referrals: referral_tasks.ReferralTasks
    linkage: linkage_tasks.LinkageTasks
    statistics: statistics_tasks.StatisticsTasks
    scanning: scanning_tasks.ScanningTasks


def register_tasks(
    huey: Huey,
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    clock: Clock = system_clock,
    translate: Callable[[str], str] | None = None,
) -> Tasks:
    """Register Reclaim's tasks on ``huey``; calling it again returns the same tasks.

    ``clock``: the app's clock (the web app passes its own, so what its pages queue is
    due for its tasks at the same moment).  ``translate``: the default language's
    translations, for what tasks write to people (the monthly statistics email)."""
    existing: Tasks | None = getattr(huey, "reclaim_tasks", None)
    if existing is not None:
        return existing
    tasks = Tasks(
        cases=case_tasks.register(huey, settings, sessions, clock=clock),
        takedown=takedown_tasks.register(huey, settings, sessions, clock=clock),
        oversight=oversight_tasks.register(huey, settings, sessions, clock=clock),
        keys=key_tasks.register(huey, settings, sessions),
        referrals=referral_tasks.register(huey, settings, sessions, clock=clock),
        linkage=linkage_tasks.register(huey, settings, sessions, clock=clock),
        statistics=statistics_tasks.register(
            huey, settings, sessions, clock=clock, translate=translate
        ),
        scanning=scanning_tasks.register(huey, settings, sessions, clock=clock),
    )
    huey.reclaim_tasks = tasks
    return tasks
