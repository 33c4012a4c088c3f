"""Password hashing for portal users (libpass's passlib; bcrypt)."""

from passlib.context import CryptContext

_context = CryptContext(schemes=["bcrypt"], deprecated="auto")


def hash_password(password: str) -> str:
    return str(_context.hash(password))


def verify_password(password: str, password_hash: str) -> bool:
    """False, not an error, for what bcrypt cannot take (a NUL byte, over 72 bytes): no stored
    password has one, so it cannot match."""
    try:
        return bool(_context.verify(password, password_hash))
    except ValueError:  # passlib's PasswordValueError and bcrypt's own
        return False
