"""Fixtures of the integration tests: the HTTP tests' world, and settings a test changes by
parametrizing `settings_update`."""
from __future__ import annotations

import pytest

from tests.integration.http_world import World


@pytest.fixture
def world(server, clock) -> World:
    return World(server, clock)


@pytest.fixture
def settings_update() -> dict:
    return {}


@pytest.fixture
def settings(settings, settings_update):
    """The conftest's settings, changed where a test parametrizes `settings_update` (a smaller
    body limit, another deadline profile)."""
    return settings.model_copy(update=settings_update) if settings_update else settings
