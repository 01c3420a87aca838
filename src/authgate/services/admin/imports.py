"""Importing users with what they had elsewhere: their password hashes, an authenticator app
already set up, the identities linked at sign-in providers (docs/guides/importing.md).

Rows are taken in order and each is all or nothing: the account, its factor, its identities,
its audit entry and its `user.created` event exist together or not at all, and a row that
fails leaves nothing behind. Rows are independent: one row's failure never stops the others.
They are checked and written a batch at a time, with one query per kind of key and one
transaction per batch; a key taken meanwhile (another import, a registration) rolls the
batch back and its rows are written one by one, each then failing or passing on its own.
No mail, SMS or session comes of an import. A dry run checks every row as a real run would,
counting the run's earlier rows as created, and writes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from authgate.core.parts import Parts
from authgate.core.principal import Principal
from authgate.errors import ErrorCode, FieldError
from authgate.security.capabilities import decode_caps, grants
from authgate.services.admin.import_rows import ImportRow, RowFailure, invalid, parse_row
from authgate.services.admin.users import require_writer
from authgate.storage.models import new_id, utcnow
from authgate.storage.repositories import imports as import_repo
from authgate.storage.repositories import roles as role_repo
from authgate.storage.repositories.users import DuplicateUser
from authgate.storage.uow import UnitOfWork

BATCH = 1000  # rows checked and written together: about 60 ms of SQLite's write lock (bench/RESULTS.md)

TAKEN = {
    "email": (ErrorCode.EMAIL_TAKEN, "Email address is already registered."),
    "username": (ErrorCode.USERNAME_TAKEN, "Username is already taken."),
    "id": (ErrorCode.ID_TAKEN, "This id is taken by another account."),
    "identity": (ErrorCode.IDENTITY_TAKEN, "This provider identity is linked to another account."),
}


@dataclass(frozen=True)
class RowResult:
    index: int  # the row's place in the import, from 0
    email: object  # as given
    status: str  # created, valid (dry run) or failed
    id: str | None = None
    code: str | None = None
    detail: str | None = None
    errors: list[FieldError] = field(default_factory=list)

    def outcome(self) -> dict[str, object]:
        """What the row came to, in the answer's and the report's words: `id` when created,
        `code`, `detail` and, for field errors, `errors` when failed."""
        out: dict[str, object] = {name: value for name in ("id", "code", "detail") if (value := getattr(self, name))}
        if self.errors:
            out["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return out


@dataclass
class Tally:
    valid: int = 0  # rows that passed every check (created, or would be in a dry run)
    created: int = 0
    failed: int = 0
    unverified: int = 0  # valid rows whose address is not verified: claimable by its owner

    def count(self, result: RowResult, row: ImportRow | None) -> None:
        if result.status == "failed":
            self.failed += 1
            return
        self.valid += 1
        self.created += result.status == "created"
        self.unverified += row is not None and not row.email_verified


def _email_of(data: object) -> object:
    """The row's `email` as given, for its result."""
    return data.get("email") if isinstance(data, dict) else None


def _taken(index: int, email: object, which: str) -> RowResult:
    code, detail = TAKEN[which]
    return RowResult(index, email, "failed", code=code.value, detail=detail)


def _failed(index: int, email: object, failure: RowFailure) -> RowResult:
    return RowResult(index, email, "failed", code=failure.code, detail=failure.detail, errors=failure.errors)


@dataclass
class _Keys:
    """Keys of rows already accepted in this batch (or, in a dry run, in the whole run)."""

    emails: set[str] = field(default_factory=set)
    usernames: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    identities: set[tuple[str, str]] = field(default_factory=set)

    def clash(self, row: ImportRow) -> str | None:
        if row.email_key in self.emails:
            return "email"
        if row.username_key is not None and row.username_key in self.usernames:
            return "username"
        if row.id is not None and row.id in self.ids:
            return "id"
        if any((i.provider, i.subject) in self.identities for i in row.identities):
            return "identity"
        return None

    def add(self, row: ImportRow) -> None:
        self.emails.add(row.email_key)
        if row.username_key is not None:
            self.usernames.add(row.username_key)
        if row.id is not None:
            self.ids.add(row.id)
        self.identities.update((i.provider, i.subject) for i in row.identities)


class Importer:
    """Feed it rows in order (`add`), then `finish`; each returns the results of the rows it
    settled, in order. `caller_caps`: what the importer holds (a row's role must carry nothing
    more); `actor_id`: who the audit entries name (None: the account itself, as for
    `authgate user create`)."""

    def __init__(self, rt: Parts, *, caller_caps: Sequence[str], actor_id: str | None, dry_run: bool) -> None:
        self.rt, self.caller_caps, self.actor_id, self.dry_run = rt, list(caller_caps), actor_id, dry_run
        self.tally = Tally()
        self._pending: list[tuple[int, object]] = []
        self._run_keys = _Keys() if dry_run else None  # a real run finds earlier batches in the database

    async def add(self, index: int, data: object) -> list[RowResult]:
        self._pending.append((index, data))
        return await self._flush() if len(self._pending) >= BATCH else []

    async def finish(self) -> list[RowResult]:
        return await self._flush()

    async def _flush(self) -> list[RowResult]:
        pending, self._pending = self._pending, []
        if not pending:
            return []
        now = utcnow()
        parsed = [(index, _email_of(data), parse_row(data, now)) for index, data in pending]
        accepted = await self._check([(i, email, row) for i, email, row in parsed if isinstance(row, ImportRow)])
        results: list[RowResult] = []
        to_write: list[tuple[int, object, ImportRow]] = []
        for index, email, row in parsed:
            if isinstance(row, RowFailure):
                results.append(_failed(index, email, row))
            elif isinstance(verdict := accepted[index], RowResult):
                results.append(verdict)
            else:
                to_write.append((index, email, row))
                results.append(RowResult(index, email, "valid"))
        if to_write and not self.dry_run:
            written = await self._write(to_write)
            results = [written.get(r.index, r) for r in results]
        rows = {index: row for index, _, row in parsed if isinstance(row, ImportRow)}
        for result in results:
            self.tally.count(result, rows.get(result.index))
        return results

    async def _check(self, rows: list[tuple[int, object, ImportRow]]) -> dict[int, RowResult | None]:
        """Each row's verdict against the database and the rows before it: a failure, or None
        (valid). One query per kind of key for the whole batch. `rows`: (index, email as
        given, row)."""
        if not rows:
            return {}
        async with self.rt.read() as db, import_repo.planned_each_time(db):
            roles = {role.name: decode_caps(role.caps) for role in await role_repo.all_roles(db)}
            emails, usernames, ids = await import_repo.taken_keys(
                db,
                email_keys=[r.email_key for _, _, r in rows],
                username_keys=[r.username_key for _, _, r in rows if r.username_key],
                ids=[r.id for _, _, r in rows if r.id],
            )
            identities = await import_repo.taken_identities(
                db, pairs=[(i.provider, i.subject) for _, _, r in rows for i in r.identities]
            )
        stored = _Keys(emails, usernames, ids, identities)
        batch = self._run_keys if self._run_keys is not None else _Keys()
        verdicts: dict[int, RowResult | None] = {}
        for index, email, row in rows:
            if row.role not in roles:
                known = ", ".join(sorted(roles))
                verdicts[index] = _failed(index, email, invalid(FieldError("role", f"Unknown role; known: {known}.")))
            elif not grants(self.caller_caps, roles[row.role]):
                detail = "You cannot give a role with capabilities you do not hold yourself."
                verdicts[index] = RowResult(index, email, "failed", code=ErrorCode.FORBIDDEN.value, detail=detail)
            elif which := stored.clash(row) or batch.clash(row):
                verdicts[index] = _taken(index, email, which)
            else:
                batch.add(row)
                verdicts[index] = None
        return verdicts

    async def _write(self, rows: list[tuple[int, object, ImportRow]]) -> dict[int, RowResult]:
        """Write the batch in one transaction; if a key was taken meanwhile, row by row."""
        try:
            async with self.rt.uow() as tx:
                staged = _Staged()
                ids = [self._stage(tx, staged, row) for _, _, row in rows]
                await staged.store(tx)
        except DuplicateUser:
            return {r.index: r for r in [await self._write_one(i, e, row) for i, e, row in rows]}
        done = zip(rows, ids, strict=True)
        return {index: RowResult(index, email, "created", id=user_id) for (index, email, _), user_id in done}

    async def _write_one(self, index: int, email: object, row: ImportRow) -> RowResult:
        try:
            async with self.rt.uow() as tx:
                staged = _Staged()
                user_id = self._stage(tx, staged, row)
                await staged.store(tx)
        except DuplicateUser as taken:
            # Judged again as before the write, so that the answer names the same key whatever
            # index the database happened to check first.
            verdict = (await self._check([(index, email, row)]))[index]
            return verdict or _taken(index, email, taken.field)
        return RowResult(index, email, "created", id=user_id)

    def _stage(self, tx: UnitOfWork, staged: _Staged, row: ImportRow) -> str:
        """The account and what comes with it, with its audit entry and event, ready to store."""
        now = utcnow()
        user_id = row.id or new_id()
        staged.users.append(
            {
                "id": user_id,
                "email": row.email,
                "email_key": row.email_key,
                "username": row.username,
                "username_key": row.username_key,
                "name": row.name,
                "phone": row.phone,
                "role": row.role,
                "password_hash": row.password.value if row.password else None,
                "password_scheme": row.password.scheme if row.password else None,
                "email_verified": row.email_verified,
                "phone_verified": row.phone_verified,
                "mfa_enabled": row.totp_secret is not None,
                "disabled": row.disabled,
                "created_at": row.created_at or now,
                "updated_at": now,
            }
        )
        if row.totp_secret is not None:
            staged.factors.append(
                {
                    "user_id": user_id,
                    "secret": self.rt.box.seal(row.totp_secret, context=user_id),
                    "pending_secret": None,
                    "last_step": None,
                    "enabled_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        staged.identities.extend(
            {
                "id": new_id(),
                "user_id": user_id,
                "provider": i.provider,
                "subject": i.subject,
                "email": i.email,
                "created_at": now,
                "last_used_at": None,
            }
            for i in row.identities
        )
        tx.audit("user.created", user_id=user_id, actor_id=self.actor_id, via="import")
        tx.emit("user.created", userId=user_id, email=row.email, via="import")
        return user_id


@dataclass
class _Staged:
    """What one transaction of the import stores."""

    users: list[dict[str, Any]] = field(default_factory=list)  # rows of each table, every column
    factors: list[dict[str, Any]] = field(default_factory=list)
    identities: list[dict[str, Any]] = field(default_factory=list)

    async def store(self, tx: UnitOfWork) -> None:
        await import_repo.add_accounts(tx.db, users=self.users, factors=self.factors, identities=self.identities)


@dataclass(frozen=True)
class ImportOutcome:
    tally: Tally
    results: list[RowResult]


async def import_users(rt: Parts, *, caller: Principal, rows: Sequence[object], dry_run: bool) -> ImportOutcome:
    """`POST /users/import`: up to 1,000 rows in one request, by a caller with `users:write`
    (and every capability of each row's role)."""
    require_writer(rt, caller)
    importer = Importer(rt, caller_caps=rt.roles.caps(caller.user.role), actor_id=caller.user_id, dry_run=dry_run)
    results: list[RowResult] = []
    for index, row in enumerate(rows):
        results += await importer.add(index, row)
    results += await importer.finish()
    return ImportOutcome(importer.tally, results)
