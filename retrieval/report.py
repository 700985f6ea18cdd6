"""What indexing reports while it runs (`BuildProgress`) and when it is done (`SyncReport`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class BuildProgress:
    done: int
    total: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float:
        return (self.total - self.done) / self.rate if self.rate else float("inf")

    def __str__(self) -> str:
        return (f"{self.done}/{self.total} entries, {self.rate:.1f}/s,"
                f" ETA {self.eta_s:.0f} s" if self.done < self.total
                else f"{self.total} entries in {self.elapsed_s:.1f} s")


def print_progress(progress: BuildProgress) -> None:
    print(f"indexing: {progress}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0  # texts that needed the model (cache misses)
    seconds: float = 0.0
