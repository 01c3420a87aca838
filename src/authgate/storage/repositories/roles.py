"""Reading and writing roles."""

from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from authgate.storage.models import Role, User


class DuplicateRole(Exception):
    """A role of that name exists already."""


async def all_roles(session: AsyncSession) -> list[Role]:
    return list((await session.execute(select(Role).order_by(Role.name))).scalars())


async def get(session: AsyncSession, *, name: str) -> Role | None:
    return await session.get(Role, name, populate_existing=True)


async def hold(session: AsyncSession, *, name: str) -> Role | None:
    """The role, share-locked until the transaction ends (PostgreSQL; SQLite's transaction
    holds the write lock already): a user given this role cannot race its deletion."""
    result = await session.execute(
        select(Role).where(Role.name == name).with_for_update(read=True).execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def lock(session: AsyncSession, *, name: str) -> Role | None:
    result = await session.execute(
        select(Role).where(Role.name == name).with_for_update().execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def add(session: AsyncSession, *, role: Role) -> None:
    session.add(role)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise DuplicateRole(role.name) from None


async def held_by_anyone(session: AsyncSession, *, name: str) -> bool:
    return bool((await session.execute(select(exists().where(User.role == name)))).scalar())


async def remove(session: AsyncSession, *, name: str) -> None:
    await session.execute(delete(Role).where(Role.name == name))
