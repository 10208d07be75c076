"""Fire EventBridge schedule rules (`rate(...)`, `cron(...)`) at their targets.

`time_scale` runs schedules faster: with 60, `rate(5 minutes)` fires every 5 seconds and a
cron expression is evaluated on a clock that runs 60 times faster than the real one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dev.emulator.control_plane import Schedule
from dev.emulator.events import scheduled_event
from dev.emulator.lambda_runner import Invoke

log = logging.getLogger("emulator.scheduler")

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
_SEARCH_DAYS = 5 * 366


class UnsupportedSchedule(ValueError):
    pass


def rate_seconds(expression: str) -> int | None:
    """Seconds between firings of a `rate(...)` expression; None for other expressions."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    value = int(match[1])
    if value <= 0:
        raise UnsupportedSchedule(f"{expression}: the rate must be positive")
    return value * _UNIT_SECONDS[match[2].rstrip("s")]


def _field_values(text: str, low: int, high: int, names: list[str] | None = None) -> set[int]:
    values: set[int] = set()
    for part in text.upper().split(","):
        if names:
            for offset, name in enumerate(names):
                part = part.replace(name, str(low + offset))
        if any(c in part for c in "LW#"):
            raise UnsupportedSchedule(f"cron field {text!r}: L, W and # are not supported")
        spec, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if spec in ("*", "?"):
            start, end = low, high
        elif "-" in spec:
            start, end = (int(v) for v in spec.split("-", 1))
        else:
            start = int(spec)
            end = high if step_text else start
        if not low <= start <= end <= high or step <= 0:
            raise UnsupportedSchedule(f"cron field {text!r} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


@dataclass(frozen=True)
class Cron:
    """An EventBridge cron: minutes hours day-of-month month day-of-week year (UTC)."""

    minutes: set[int]
    hours: set[int]
    days_of_month: set[int] | None
    months: set[int]
    days_of_week: set[int] | None
    years: set[int]

    @classmethod
    def parse(cls, expression: str) -> Cron:
        match = _CRON.match(expression.strip())
        if not match:
            raise UnsupportedSchedule(f"{expression!r} is neither rate(...) nor cron(...)")
        fields = match[1].split()
        if len(fields) != 6:
            raise UnsupportedSchedule(f"{expression}: cron needs 6 fields, got {len(fields)}")
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise UnsupportedSchedule(f"{expression}: exactly one of day-of-month/day-of-week is ?")
        return cls(
            minutes=_field_values(minute, 0, 59),
            hours=_field_values(hour, 0, 23),
            days_of_month=None if dom == "?" else _field_values(dom, 1, 31),
            months=_field_values(month, 1, 12, _MONTHS),
            days_of_week=None if dow == "?" else _field_values(dow, 1, 7, _DAYS),
            years=_field_values(year, 1970, 2199),
        )

    def _day_matches(self, day: datetime) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        if self.days_of_month is not None:
            return day.day in self.days_of_month
        assert self.days_of_week is not None
        return (day.isoweekday() % 7) + 1 in self.days_of_week  # 1 = Sunday

    def next_after(self, moment: datetime) -> datetime:
        """The first firing strictly after `moment` (an aware datetime)."""
        start = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = day.replace(hour=hour, minute=minute)
                        if candidate >= start:
                            return candidate
            day += timedelta(days=1)
        raise UnsupportedSchedule("the cron expression never fires in the next five years")


def _firings(expression: str, origin: datetime) -> Iterable[datetime]:
    """Virtual times at which a schedule fires, starting after `origin`."""
    every = rate_seconds(expression)
    if every is not None:
        moment = origin
        while True:
            moment += timedelta(seconds=every)
            yield moment
    cron = Cron.parse(expression)
    moment = origin
    while True:
        moment = cron.next_after(moment)
        yield moment


class Scheduler:
    def __init__(
        self,
        schedules: Iterable[Schedule],
        region: str,
        invoke: Invoke,
        time_scale: float = 1.0,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._schedules = list(schedules)
        self._region = region
        self._invoke = invoke
        self._scale = time_scale

    async def run(self) -> None:
        await asyncio.gather(*(self._run_one(s) for s in self._schedules))

    async def _run_one(self, schedule: Schedule) -> None:
        real_origin = time.time()
        virtual_origin = datetime.fromtimestamp(real_origin, UTC)
        try:
            firings = iter(_firings(schedule.expression, virtual_origin))
            first = next(firings)
        except UnsupportedSchedule as exc:
            log.error("rule %s not scheduled: %s", schedule.rule_name, exc)
            return
        log.info(
            "rule %s (%s) → %s, time scale %g",
            schedule.rule_name,
            schedule.expression,
            schedule.function_name,
            self._scale,
        )
        moment = first
        while True:
            real_at = real_origin + (moment - virtual_origin).total_seconds() / self._scale
            await asyncio.sleep(max(0.0, real_at - time.time()))
            await self._fire(schedule, moment)
            moment = next(firings)

    async def _fire(self, schedule: Schedule, moment: datetime) -> None:
        if schedule.target_input is not None:
            event = json.loads(schedule.target_input)
        else:
            event = scheduled_event(schedule.rule_arn, self._region, moment)
        await self._invoke(schedule.function_name, event)
