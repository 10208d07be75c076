import asyncio
from datetime import UTC, datetime

import pytest

from dev.emulator.control_plane import Schedule
from dev.emulator.scheduler import Cron, Scheduler, UnsupportedSchedule, rate_seconds

from .conftest import StubInvoker


async def _run_for(scheduler: Scheduler, seconds: float) -> None:
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(seconds)
    task.cancel()


T0 = datetime(2026, 11, 23, 15, 7, 30, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(5 minutes)", 300),
        ("rate(1 minute)", 60),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
    ],
)
def test_rate_expressions_give_their_interval(expression, seconds):
    assert rate_seconds(expression) == seconds


def test_a_zero_rate_is_rejected():
    with pytest.raises(UnsupportedSchedule):
        rate_seconds("rate(0 minutes)")


def test_cron_every_five_minutes_fires_on_the_next_multiple_of_five():
    assert Cron.parse("cron(0/5 * * * ? *)").next_after(T0) == T0.replace(minute=10, second=0)


def test_cron_fires_strictly_after_the_given_moment():
    moment = T0.replace(minute=10, second=0)

    assert Cron.parse("cron(0/5 * * * ? *)").next_after(moment) == moment.replace(minute=15)


def test_cron_at_a_fixed_time_fires_the_next_day_once_passed():
    expected = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)

    assert Cron.parse("cron(30 9 * * ? *)").next_after(T0) == expected


def test_cron_day_of_week_counts_sunday_as_one():
    # SUN is 1 in EventBridge; the next Sunday after Monday 2026-11-23 is the 29th.
    assert Cron.parse("cron(0 12 ? * 1 *)").next_after(T0) == datetime(
        2026, 11, 29, 12, 0, tzinfo=UTC
    )
    assert Cron.parse("cron(0 12 ? * SUN *)").next_after(T0) == datetime(
        2026, 11, 29, 12, 0, tzinfo=UTC
    )


def test_cron_weekday_range_skips_the_weekend():
    friday_evening = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)

    fired = Cron.parse("cron(0 8 ? * MON-FRI *)").next_after(friday_evening)

    assert fired == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_cron_day_of_month_and_month_names():
    assert Cron.parse("cron(0 0 1 JAN ? *)").next_after(T0) == datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 0 * * * *)",
        "cron(0 0 ? * ? *)",
        "cron(0 0 L * ? *)",
        "cron(0 0 * *)",
        "at(2026-01-01T00:00:00)",
    ],
)
def test_unsupported_or_invalid_cron_is_rejected(expression):
    with pytest.raises(UnsupportedSchedule):
        Cron.parse(expression)


def test_time_scale_makes_a_rate_fire_that_much_faster():
    invoke = StubInvoker()
    schedule = Schedule(
        "heartbeat", "arn:aws:events:us-east-1:123456789012:rule/heartbeat", "rate(1 minute)", "hb"
    )
    scheduler = Scheduler([schedule], "us-east-1", invoke, time_scale=600)  # every 0.1 s

    asyncio.run(_run_for(scheduler, 0.35))

    events = invoke.events_of("hb")
    assert len(events) == 3
    assert all(e["detail-type"] == "Scheduled Event" for e in events)


def test_a_target_input_replaces_the_scheduled_event():
    invoke = StubInvoker()
    schedule = Schedule("r", "arn:aws:events:us-east-1:1:rule/r", "rate(1 minute)", "f", '{"k": 1}')
    scheduler = Scheduler([schedule], "us-east-1", invoke, time_scale=6000)

    asyncio.run(_run_for(scheduler, 0.05))

    assert invoke.events_of("f")[0] == {"k": 1}
