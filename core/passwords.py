"""Password hashing for portal users (libpass's passlib; bcrypt)."""

from passlib.context import CryptContext

_context = CryptContext(schemes=["bcrypt"], deprecated="auto")


def hash_password(password: str) -> str:
    return str(_context.hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    return bool(_context.verify(password, password_hash))
