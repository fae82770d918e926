"""Serving an app with uvicorn beside a faust worker (which owns the main thread and loop)."""
from __future__ import annotations

import threading
import time

import uvicorn


# Open live feeds (/api/live) never end by themselves: on shutdown, requests still running after
# this many seconds are cancelled.
GRACE_S = 3


class ThreadedServer:
    def __init__(self, app, host: str, port: int):
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port,
                                                    log_level="warning", lifespan="on",
                                                    timeout_graceful_shutdown=GRACE_S))
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
