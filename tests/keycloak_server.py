"""A real Keycloak 26 with the banli realm for the test suite.

Stdlib only. Drives ``deploy/keycloak/keycloak.sh``, which runs Keycloak's own
distribution from Maven Central (fetched and prepared once into
``$BANLI_KEYCLOAK_HOME/dist``, default ``~/.cache/banli/keycloak/dist``) in
dev mode with ``deploy/keycloak/banli-realm.json`` imported.

    kc = KeycloakServer.start()       # free port, fresh temporary data dir
    kc.issuer                         # "http://127.0.0.1:<port>/realms/banli"
    kc.client_id, kc.client_secret    # "banli-web", "banli-web-secret"
    kc.restart()                      # stop + start, same port and data
    kc.stop(); kc.cleanup()

Users (password ``<name>-pass``): wang (clerk, sh-ipa), li (clerk, sh-hrss),
zhao (overseer), chen (coordinator), qian (admin), zhou (importer), zhangwei
(filer, a deputy: banli_filer filer-00), wangfang (filer, a CPPCC member:
filer-01), sun (no banli_role). All dev/test values. The sign-in page is in
Chinese (the realm's default locale zh-CN), English offered.

If ``BANLI_KEYCLOAK_URL`` is set, that external server is used instead: the
server's base URL (``/realms/banli`` is appended) or a realm's issuer URL.
``start`` returns a handle on it and ``stop``/``restart``/``cleanup`` do
nothing (``kc.managed`` is False, so tests that need to restart it can skip).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
KEYCLOAK_SH = REPO_ROOT / "deploy" / "keycloak" / "keycloak.sh"
ENV_URL = "BANLI_KEYCLOAK_URL"
REALM = "banli"
CLIENT_ID = "banli-web"
CLIENT_SECRET = "banli-web-secret"  # dev/test value, public in banli-realm.json

# A cold cache downloads ~160 MB and prepares the dist (~20-30 s); later starts take ~8 s.
START_TIMEOUT_S = float(os.environ.get("BANLI_KEYCLOAK_PY_START_TIMEOUT", "600"))
STOP_TIMEOUT_S = 60.0

_live: set["KeycloakServer"] = set()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KeycloakServerError(RuntimeError):
    pass


class KeycloakServer:
    """Handle on a Keycloak started by ``deploy/keycloak/keycloak.sh`` (or an external one)."""

    realm = REALM
    client_id = CLIENT_ID
    client_secret = CLIENT_SECRET

    def __init__(
        self,
        issuer: str,
        *,
        port: int | None = None,
        data_dir: Path | None = None,
        managed: bool = True,
        owns_dir: bool = False,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.port = port
        self.data_dir = data_dir
        self.managed = managed
        self._owns_dir = owns_dir

    @property
    def url(self) -> str:
        """The server's base URL (the issuer without ``/realms/<realm>``)."""
        return self.issuer.rsplit("/realms/", 1)[0]

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def start(
        cls,
        port: int | None = None,
        *,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> "KeycloakServer":
        """Start Keycloak on ``port`` (a free one if None) with fresh data.

        ``data_dir`` (Keycloak's home for this server: data, log) defaults to a
        new temporary directory, removed by :meth:`cleanup`.
        """
        external = os.environ.get(ENV_URL, "").strip().rstrip("/")
        if external:
            issuer = external if re.search(r"/realms/[^/]+$", external) else f"{external}/realms/{REALM}"
            return cls(issuer, managed=False)

        if port is None:
            port = _free_port()
        owns_dir = data_dir is None
        ddir = Path(tempfile.mkdtemp(prefix="banli-keycloak-")) if owns_dir else Path(data_dir)
        server = cls(
            f"http://127.0.0.1:{port}/realms/{REALM}",
            port=port,
            data_dir=ddir.resolve(),
            owns_dir=owns_dir,
        )
        server._start(keep=False)
        return server

    def _run(self, *args: str, timeout: float) -> str:
        cmd = ["bash", str(KEYCLOAK_SH), *args]
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            self._kill()  # the script's own timeout did not fire: leave no JVM behind
            raise KeycloakServerError(
                f"{' '.join(cmd)} timed out after {timeout:.0f}s\n{self.log_tail()}"
            ) from e
        if proc.returncode != 0:
            raise KeycloakServerError(
                f"{' '.join(cmd)} failed (exit {proc.returncode}):\n"
                f"{proc.stderr.strip()}\n{proc.stdout.strip()}"
            )
        return proc.stdout

    def _start(self, *, keep: bool) -> None:
        args = ["start", "--port", str(self.port), "--data", str(self.data_dir)]
        if keep:
            args.append("--keep")
        _live.add(self)
        out = self._run(*args, timeout=START_TIMEOUT_S)
        got = out.strip().splitlines()[-1] if out.strip() else ""
        if got != self.issuer:
            raise KeycloakServerError(f"keycloak.sh printed {got!r}, expected {self.issuer!r}")

    def stop(self) -> None:
        """SIGTERM Keycloak and its children (SIGKILL after 30 s). Data is kept."""
        if not self.managed:
            return
        try:
            self._run("stop", "--data", str(self.data_dir), timeout=STOP_TIMEOUT_S)
        finally:
            self._kill()
            _live.discard(self)

    def restart(self) -> None:
        """Stop, then start again on the same port with the same data."""
        if not self.managed:
            return
        self.stop()
        self._start(keep=True)

    def cleanup(self) -> None:
        """Stop if running, and remove the data dir if this handle created it."""
        if not self.managed:
            return
        try:
            self.stop()
        finally:
            if self._owns_dir and self.data_dir is not None:
                shutil.rmtree(self.data_dir, ignore_errors=True)

    def _kill(self) -> None:
        # keycloak.sh runs kc.sh and its java in a session of their own, whose
        # process group id is in keycloak.pid: SIGKILL whatever is left of it.
        pgid = self.pgid
        if pgid is not None:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass

    # ------------------------------------------------------------ inspection
    @property
    def pgid(self) -> int | None:
        """Process group of kc.sh and its java (None once stopped)."""
        if not self.managed or self.data_dir is None:
            return None
        try:
            return int((self.data_dir / "keycloak.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def log_tail(self, lines: int = 60) -> str:
        if not self.managed or self.data_dir is None:
            return ""
        try:
            text = (self.data_dir / "keycloak.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __repr__(self) -> str:
        kind = "managed" if self.managed else "external"
        return f"KeycloakServer({self.issuer!r}, {kind}, dir={self.data_dir})"


@atexit.register
def _stop_leftovers() -> None:
    # A session that dies before fixture teardown must not leave JVMs behind.
    for server in list(_live):
        try:
            server.stop()
        except Exception:
            server._kill()
