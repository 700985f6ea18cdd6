"""Service hours and holidays: when staff answer citizens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")  # ZoneInfo instances are immutable and cached per key

DAY_NAMES = "一二三四五六日"


def parse_clock(text: str) -> dt.timedelta:
    """"09:00" -> 9 h; "24:00" is allowed as the end of the day."""
    hours, _, minutes = text.strip().partition(":")
    value = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
    if not dt.timedelta(0) <= value <= dt.timedelta(hours=24):
        raise ValueError(f"not a time of day: {text!r}")
    return value


@dataclass(frozen=True)
class ServiceHours:
    """Open on `weekdays` (1 = Monday) between `opens` and `closes` local time, except on
    `holidays`; `workdays` are weekend days worked in lieu (调休上班)."""

    opens: dt.timedelta = dt.timedelta(hours=9)
    closes: dt.timedelta = dt.timedelta(hours=17)
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    zone: ZoneInfo = CHINA

    @classmethod
    def build(cls, opens: str, closes: str, weekdays: Iterable[int], holidays: Iterable[dt.date],
              workdays: Iterable[dt.date], zone: str) -> ServiceHours:
        return cls(parse_clock(opens), parse_clock(closes), frozenset(weekdays),
                   frozenset(holidays), frozenset(workdays), ZoneInfo(zone))

    def is_open(self, when: dt.datetime) -> bool:
        local = when.astimezone(self.zone)
        day = local.date()
        working = day in self.workdays or (
            local.isoweekday() in self.weekdays and day not in self.holidays
        )
        since_midnight = dt.timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)
        return working and self.opens <= since_midnight < self.closes

    def describe(self) -> str:
        """The hours as citizens are told them: "工作日9:00-17:00", "每天8:30-20:00"."""
        times = ("24小时" if (self.opens, self.closes) == (dt.timedelta(0), dt.timedelta(hours=24))
                 else f"{_clock(self.opens)}-{_clock(self.closes)}")
        return _days(sorted(self.weekdays)) + times


def _clock(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds()) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def _days(days: list[int]) -> str:
    named = {(1, 2, 3, 4, 5): "工作日", (1, 2, 3, 4, 5, 6, 7): "每天", (6, 7): "周末"}
    if tuple(days) in named:
        return named[tuple(days)]
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return f"周{DAY_NAMES[days[0] - 1]}至周{DAY_NAMES[days[-1] - 1]}"
    return "、".join(f"周{DAY_NAMES[d - 1]}" for d in days)
