"""handling's HTTP API: the bureaus' workflow commands (one route each, from the command
registry: banli.domain.registry)."""
from __future__ import annotations

from banli.web.commands import command_routes

router = command_routes("handling")
