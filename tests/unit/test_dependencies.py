"""Every route's dependencies, as FastAPI will call them: a plain function runs in a worker
thread (a hop per dependency per request, paid on the event loop), so only those that block may
be plain; the rest are `async def` (banli/web/deps.py). A dependency added as a plain function
fails here until it is made async or named below with what it blocks on."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant

import apps

# What may block, and on what.
BLOCKING = {
    "current_session": "the token's check reads the key ring and revocations (SQLite)",
    "_calendar": "the working-day calendar looks at its notices' files",
    "ReportQuery": "a report's parameters: builds the scope, reads nothing, but is a class",
    "IntakeQuery": "the same for intake's lists",
}


def _routers() -> list[APIRouter]:
    found: dict[int, APIRouter] = {}
    for module in pkgutil.iter_modules(apps.__path__):
        loaded = importlib.import_module(f"apps.{module.name}")
        for value in vars(loaded).values():
            if isinstance(value, APIRouter):
                found[id(value)] = value
    return list(found.values())


def _calls(dependant: Dependant):
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def test_only_the_dependencies_that_block_run_in_a_worker_thread():
    routers = _routers()
    assert len(routers) > 10, "the composition roots' routers were found"
    plain = set()
    for router in routers:
        for route in router.routes:
            for call in _calls(getattr(route, "dependant", Dependant())):
                target = call if inspect.isroutine(call) or inspect.isclass(call) else (
                    type(call).__call__)
                if not inspect.iscoroutinefunction(target):
                    plain.add(getattr(call, "__name__", type(call).__name__))
    assert plain <= set(BLOCKING), f"plain dependencies not known to block: {plain - set(BLOCKING)}"
    assert "current_session" in plain
