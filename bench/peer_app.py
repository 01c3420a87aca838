"""The peer in authgate's benchmarks: an app built on fastapi-users the way its documentation
sets one up (SQLAlchemy on SQLite through aiosqlite, a JWT bearer backend, the register, login
and users routers), with bcrypt at cost 12 so that both servers hash alike, and a hello-world
route for the same-server ratios. It runs in its own venv (bench/peer.py makes it and starts
this module); nothing of authgate is imported here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users.password import PasswordHelper
from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from pwdlib import PasswordHash
from pwdlib.hashers.bcrypt import BcryptHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

SECRET = os.environ["PEER_SECRET"]
engine = create_async_engine(f"sqlite+aiosqlite:///{os.environ['PEER_DATABASE']}")
make_session = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


async def database_session() -> AsyncIterator[AsyncSession]:
    async with make_session() as session:
        yield session


async def user_database(session: AsyncSession = Depends(database_session)) -> AsyncIterator[Any]:
    yield SQLAlchemyUserDatabase(session, User)


hashing = PasswordHelper(PasswordHash((BcryptHasher(rounds=12),)))


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def user_manager(users: Any = Depends(user_database)) -> AsyncIterator[UserManager]:
    yield UserManager(users, hashing)


def jwt_strategy() -> JWTStrategy[Any, Any]:
    return JWTStrategy(secret=SECRET, lifetime_seconds=3600)


bearer = AuthenticationBackend(
    name="jwt", transport=BearerTransport(tokenUrl="auth/jwt/login"), get_strategy=jwt_strategy
)
users = FastAPIUsers[User, uuid.UUID](user_manager, [bearer])


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(users.get_auth_router(bearer), prefix="/auth/jwt")
app.include_router(users.get_register_router(UserRead, UserCreate), prefix="/auth")
app.include_router(users.get_users_router(UserRead, UserUpdate), prefix="/users")


@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"status": "ok"}
