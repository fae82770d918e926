"""A real single-node Kafka 4.x broker (KRaft) for the test suite.

Stdlib only. Drives ``deploy/kafka/broker.sh``, which runs Apache's own jars
from Maven Central (fetched once into ``$BANLI_KAFKA_HOME/libs``, default
``~/.cache/banli/kafka/libs``).

    broker = KafkaBroker.start()      # free ports, fresh temporary data dir
    broker.bootstrap                  # "127.0.0.1:<port>"
    broker.restart()                  # stop + start, same port and data
    broker.kill()                     # SIGKILL (then restart() recovers)
    broker.stop(); broker.cleanup()

If ``BANLI_KAFKA_BOOTSTRAP`` is set, that external broker is used instead:
``start`` returns a handle with that bootstrap and ``stop``/``restart``/
``kill``/``cleanup`` do nothing (``broker.managed`` is False, so tests that
need to restart or kill the broker can skip).
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BROKER_SH = REPO_ROOT / "deploy" / "kafka" / "broker.sh"
ENV_BOOTSTRAP = "BANLI_KAFKA_BOOTSTRAP"

# First run downloads ~45 MB of jars with Maven; later starts take ~5-10 s.
START_TIMEOUT_S = float(os.environ.get("BANLI_KAFKA_PY_START_TIMEOUT", "600"))
STOP_TIMEOUT_S = 60.0

_live: set["KafkaBroker"] = set()


def _free_port(exclude: tuple[int, ...] = ()) -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in exclude:
            return port
    raise RuntimeError("no free port found")


class KafkaBrokerError(RuntimeError):
    pass


class KafkaBroker:
    """Handle on a broker started by ``deploy/kafka/broker.sh`` (or an external one)."""

    def __init__(
        self,
        bootstrap: str,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        data_dir: Path | None = None,
        managed: bool = True,
        owns_dir: bool = False,
    ) -> None:
        self.bootstrap = bootstrap
        self.port = port
        self.controller_port = controller_port
        self.data_dir = data_dir
        self.managed = managed
        self._owns_dir = owns_dir

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def start(
        cls,
        port: int | None = None,
        *,
        controller_port: int | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> "KafkaBroker":
        """Start a broker on ``port`` (a free one if None) with fresh data.

        ``data_dir`` defaults to a new temporary directory, removed by
        :meth:`cleanup`.
        """
        external = os.environ.get(ENV_BOOTSTRAP, "").strip()
        if external:
            return cls(external, managed=False)

        if port is None:
            port = _free_port()
        if controller_port is None:
            controller_port = _free_port(exclude=(port,))
        owns_dir = data_dir is None
        ddir = Path(tempfile.mkdtemp(prefix="banli-kafka-")) if owns_dir else Path(data_dir)
        broker = cls(
            f"127.0.0.1:{port}",
            port=port,
            controller_port=controller_port,
            data_dir=ddir.resolve(),
            owns_dir=owns_dir,
        )
        broker._start(keep=False)
        return broker

    def _run(self, *args: str, timeout: float) -> str:
        cmd = ["bash", str(BROKER_SH), *args]
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise KafkaBrokerError(
                f"{' '.join(cmd)} timed out after {timeout:.0f}s\n{self.log_tail()}"
            ) from e
        if proc.returncode != 0:
            raise KafkaBrokerError(
                f"{' '.join(cmd)} failed (exit {proc.returncode}):\n"
                f"{proc.stderr.strip()}\n{proc.stdout.strip()}"
            )
        return proc.stdout

    def _start(self, *, keep: bool) -> None:
        args = [
            "start",
            "--port", str(self.port),
            "--controller-port", str(self.controller_port),
            "--dir", str(self.data_dir),
        ]
        if keep:
            args.append("--keep")
        out = self._run(*args, timeout=START_TIMEOUT_S)
        got = out.strip().splitlines()[-1] if out.strip() else ""
        if got != self.bootstrap:
            raise KafkaBrokerError(f"broker.sh printed {got!r}, expected {self.bootstrap!r}")
        _live.add(self)

    def stop(self) -> None:
        """SIGTERM the broker (SIGKILL after 30 s). Data is kept."""
        if not self.managed:
            return
        self._run("stop", "--dir", str(self.data_dir), timeout=STOP_TIMEOUT_S)
        _live.discard(self)

    def restart(self) -> None:
        """Stop, then start again on the same ports with the same data."""
        if not self.managed:
            return
        self.stop()
        self._start(keep=True)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would. ``restart()`` brings it back."""
        if not self.managed:
            return
        pid = self.pid
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 30
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
        deadline = time.monotonic() + 10
        while self.port is not None and _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)
        _live.discard(self)

    def cleanup(self) -> None:
        """Stop if running, and remove the data dir if this handle created it."""
        if not self.managed:
            return
        if self.is_running:
            self.stop()
        if self._owns_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ------------------------------------------------------------ inspection
    @property
    def pid(self) -> int | None:
        if not self.managed or self.data_dir is None:
            return None
        try:
            return int((self.data_dir / "kafka.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    @property
    def is_running(self) -> bool:
        pid = self.pid
        return pid is not None and _alive(pid)

    def log_tail(self, lines: int = 60) -> str:
        if not self.managed or self.data_dir is None:
            return ""
        try:
            text = (self.data_dir / "kafka.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __repr__(self) -> str:
        kind = "managed" if self.managed else "external"
        return f"KafkaBroker({self.bootstrap!r}, {kind}, dir={self.data_dir})"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (init may not reap it at once) is dead, but only when all its
    # threads are gone: a SIGKILLed JVM's main thread turns zombie while the
    # other threads still exit, and the sockets close only after them.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
            return True
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except (OSError, IndexError):
        return False


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@atexit.register
def _stop_leftovers() -> None:
    # A session that dies before fixture teardown must not leave JVMs behind.
    for broker in list(_live):
        try:
            broker.stop()
        except Exception:
            pid = broker.pid
            if pid is not None:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
