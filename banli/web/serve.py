"""Serving a Banli app with uvicorn: in the foreground (signals stop it) or in a thread beside a
faust worker (which owns the main thread and loop).

Every server here logs each request on standard output (banli.web.app.AccessLog: client,
method, path, status and time; never a query string, a header or a body), and, when it begins
to stop, tells the app (`build_app`'s `on_stop`), so that long-lived answers (the live feed)
end themselves before the grace period runs out instead of being cancelled."""
from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

# Requests still running this many seconds after shutdown began are cancelled.
GRACE_S = 3


def log_config(access_log: bool = True) -> dict[str, Any]:
    """uvicorn's logging (its messages on stderr), with Banli's access log on stdout in place of
    uvicorn's own (whose request line carries the query string)."""
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {
            "default": {"()": "uvicorn.logging.DefaultFormatter",
                        "fmt": "%(levelprefix)s %(message)s", "use_colors": None},
            "access": {"format": "%(asctime)s %(message)s"},
        },
        "handlers": {
            "default": {"formatter": "default", "class": "logging.StreamHandler",
                        "stream": "ext://sys.stderr"},
            "access": {"formatter": "access", "class": "logging.StreamHandler",
                       "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "banli.access": {"handlers": ["access"], "propagate": False,
                             "level": "INFO" if access_log else "WARNING"},
        },
    }


class Server(uvicorn.Server):
    """uvicorn's server for one Banli app (see the module)."""

    def __init__(self, app, host: str, port: int, access_log: bool = True):
        super().__init__(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                        lifespan="on", timeout_graceful_shutdown=GRACE_S,
                                        access_log=False, log_config=log_config(access_log)))
        self.app = app

    async def shutdown(self, sockets=None) -> None:
        for stop in getattr(self.app.state, "on_stop", ()):
            stop()
        await super().shutdown(sockets)


class ThreadedServer:
    def __init__(self, app, host: str, port: int, access_log: bool = True):
        self.server = Server(app, host, port, access_log)
        # uvicorn takes signals only in the main thread; this one is not: the worker has them
        self.thread = threading.Thread(target=self.server.run, name="http", daemon=True)

    def start(self, timeout: float = 60) -> "ThreadedServer":
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def run_in_foreground(server: uvicorn.Server) -> int:
    """Run until SIGINT/SIGTERM, then shut down gracefully and exit 0. (uvicorn re-raises the
    signal after its shutdown so that the default action kills the process; a handler of ours
    under its own turns that into a normal exit.)"""
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: None)
    server.run()
    return 0
