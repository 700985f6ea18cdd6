"""Staff accounts and console sessions: scrypt passwords, lock-out after repeated failures,
and session cookies of which the database keeps only a hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.console.passwords import DUMMY_HASH, hash_password, verify_password
from bot.console.presence import Clock, utc_now
from bot.storage import SqlStore
from bot.tables import StaffSessionRow, StaffUserRow

T = TypeVar("T")
ROLES = ("staff", "supervisor")
FREE_FAILURES = 5  # then a lock that doubles with every further failure
FIRST_LOCK = dt.timedelta(minutes=1)
LONGEST_LOCK = dt.timedelta(minutes=15)


class AccountError(Exception):
    pass


class DuplicateUser(AccountError):
    pass


class LockedOut(AccountError):
    def __init__(self, until: dt.datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    display_name: str
    role: str

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


@dataclass(frozen=True)
class StaffSession:
    user: StaffUser
    csrf: str
    expires_at: dt.datetime


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without their zone; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(row: StaffUserRow) -> StaffUser:
    return StaffUser(row.id, row.username, row.display_name, row.role)


class AccountStore(SqlStore):
    unavailable = "staff database unavailable"

    def __init__(self, engine: Engine, session_ttl: dt.timedelta = dt.timedelta(hours=8),
                 clock: Clock = utc_now) -> None:
        super().__init__(engine)
        self._ttl, self._clock = session_ttl, clock

    def _run(self, work: Callable[[Session], T]) -> T:
        with self._session() as session:
            return work(session)

    def add_user(self, username: str, password: str, role: str, display_name: str) -> StaffUser:
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if not username.strip() or not display_name.strip():
            raise AccountError("username and display name must not be empty")
        row = StaffUserRow(username=username.strip(), display_name=display_name.strip(), role=role,
                           password_hash=hash_password(password), active=True, failed_logins=0)
        def work(session: Session) -> StaffUser:
            session.add(row)
            session.flush()
            return _user(row)

        try:
            return self._run(work)
        except IntegrityError as exc:
            raise DuplicateUser(username) from exc

    def users(self) -> list[StaffUser]:
        def work(session: Session) -> list[StaffUser]:
            rows = session.scalars(select(StaffUserRow).where(StaffUserRow.active.is_(True))
                                   .order_by(StaffUserRow.id))
            return [_user(r) for r in rows]

        return self._run(work)

    def user(self, username: str) -> StaffUser | None:
        def work(session: Session) -> StaffUser | None:
            row = session.scalars(select(StaffUserRow).where(
                StaffUserRow.username == username, StaffUserRow.active.is_(True))).first()
            return None if row is None else _user(row)

        return self._run(work)

    def authenticate(self, username: str, password: str) -> StaffUser | None:
        """The user for a right password; None otherwise; LockedOut while locked."""

        def work(session: Session) -> StaffUser | None:
            row = session.scalars(select(StaffUserRow).where(
                StaffUserRow.username == username, StaffUserRow.active.is_(True))).first()
            if row is None:
                verify_password(password, DUMMY_HASH)  # same time as a wrong password
                return None
            now = self._clock()
            if row.locked_until is not None and aware(row.locked_until) > now:
                raise LockedOut(aware(row.locked_until))
            if verify_password(password, row.password_hash):
                row.failed_logins, row.locked_until = 0, None
                return _user(row)
            row.failed_logins += 1
            extra = row.failed_logins - FREE_FAILURES
            if extra >= 0:
                row.locked_until = now + min(FIRST_LOCK * 2**min(extra, 10), LONGEST_LOCK)
            return None

        return self._run(work)

    def open_session(self, user: StaffUser) -> tuple[str, StaffSession]:
        """A new session: the cookie's token (kept only as a hash) and its CSRF token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = self._clock() + self._ttl

        def work(session: Session) -> None:
            session.execute(delete(StaffSessionRow).where(StaffSessionRow.expires_at < self._clock()))
            session.add(StaffSessionRow(token_hash=token_hash(token), user_id=user.id,
                                        csrf_token=csrf, expires_at=expires))

        self._run(work)
        return token, StaffSession(user, csrf, expires)

    def session(self, token: str) -> StaffSession | None:
        def work(session: Session) -> StaffSession | None:
            found = session.execute(
                select(StaffSessionRow, StaffUserRow)
                .join(StaffUserRow, StaffUserRow.id == StaffSessionRow.user_id)
                .where(StaffSessionRow.token_hash == token_hash(token),
                       StaffUserRow.active.is_(True))
            ).first()
            if found is None or aware(found[0].expires_at) <= self._clock():
                return None
            return StaffSession(_user(found[1]), found[0].csrf_token, aware(found[0].expires_at))

        return self._run(work) if token else None

    def close_session(self, token: str) -> None:
        self._run(lambda session: session.execute(
            delete(StaffSessionRow).where(StaffSessionRow.token_hash == token_hash(token))))
