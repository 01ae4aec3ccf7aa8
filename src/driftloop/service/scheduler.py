"""Cron jobs with APScheduler 3.11, persisted in the warehouse database.

One scheduler per job store; misfire grace of six hours (a weekly job missed while the server was
down runs when it comes back, once); ``coalesce`` and ``max_instances=1``. A six-field cron
(seconds first) is accepted besides the usual five fields.
"""

from __future__ import annotations

from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from driftloop.config import ScheduleConfig
from driftloop.errors import ConfigError

__all__ = ["MISFIRE_GRACE", "build_scheduler", "cron_trigger", "fire"]

MISFIRE_GRACE = 6 * 3600
_COORDINATORS: dict[str, Any] = {}


def cron_trigger(schedule: ScheduleConfig) -> CronTrigger:
    fields = schedule.cron.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(schedule.cron, timezone=schedule.timezone)
        if len(fields) == 6:
            second, minute, hour, day, month, dow = fields
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=dow,
                timezone=schedule.timezone,
            )
    except (ValueError, LookupError) as err:
        raise ConfigError(
            f"Invalid schedule.cron {schedule.cron!r} or timezone {schedule.timezone!r}: {err}."
        ) from None
    raise ConfigError(
        f"Invalid schedule.cron {schedule.cron!r}: use five fields "
        "(minute hour day month weekday), "
        "e.g. '0 11 * * MON'."
    )


def fire(pipeline: str) -> None:
    """The job function (referenced by name in the job store): trigger a cron run."""
    coordinator = _COORDINATORS.get(pipeline)
    if coordinator is not None:
        coordinator.trigger(pipeline, "cron")


def build_scheduler(
    url: str, schedules: dict[str, ScheduleConfig], coordinator: Any
) -> BackgroundScheduler:
    """A scheduler whose jobs fire the coordinator; call ``start()`` on it."""
    import sqlalchemy as sa
    from apscheduler.jobstores.memory import MemoryJobStore

    from driftloop.data.sql import sqlite_folder_on_connect

    engine = sqlite_folder_on_connect(sa.create_engine(url))
    scheduler = BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=engine, tablename="driftloop_scheduler_jobs"),
            "memory": MemoryJobStore(),
        },
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
    )
    for pipeline, schedule in schedules.items():
        _COORDINATORS[pipeline] = coordinator
        scheduler.add_job(
            fire,
            cron_trigger(schedule),
            args=[pipeline],
            id=f"driftloop:{pipeline}",
            name=f"{pipeline} ({schedule.cron} {schedule.timezone})",
            replace_existing=True,
        )
    return scheduler
