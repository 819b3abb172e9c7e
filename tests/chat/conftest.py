"""Fixtures for every chat test."""

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # The factories hash a password for every user; PBKDF2 costs ~0.4 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
