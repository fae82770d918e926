"""A real S3-compatible server (s3proxy on its filesystem backend) for the test suite.

Stdlib only. Drives ``deploy/s3proxy/s3proxy.sh``, which runs s3proxy's jars from Maven
Central (fetched once into ``$BANLI_S3PROXY_HOME/libs``, default
``~/.cache/banli/s3proxy/libs``).

    s3 = S3Server.start()             # free port, fresh temporary data dir
    s3.endpoint                       # "http://127.0.0.1:<port>"
    s3.access_key, s3.secret_key      # the dev credentials
    s3.new_bucket()                   # a fresh bucket's name (created)
    s3.stop(); s3.cleanup()

If ``BANLI_S3_ENDPOINT`` is set, that external server is used instead, with
``BANLI_S3_ACCESS_KEY`` and ``BANLI_S3_SECRET_KEY``; ``stop``/``cleanup`` do nothing.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
S3PROXY_SH = REPO_ROOT / "deploy" / "s3proxy" / "s3proxy.sh"
ACCESS_KEY, SECRET_KEY = "banli-dev", "banli-dev-secret"  # s3proxy.sh's dev values

# A cold cache downloads ~34 MB of jars with Maven; later starts take ~3 s.
START_TIMEOUT_S = float(os.environ.get("BANLI_S3PROXY_PY_START_TIMEOUT", "600"))

_live: set["S3Server"] = set()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3ServerError(RuntimeError):
    pass


class S3Server:
    def __init__(self, endpoint: str, access_key: str, secret_key: str,
                 data_dir: Path | None = None, managed: bool = True):
        self.endpoint, self.access_key, self.secret_key = endpoint, access_key, secret_key
        self.data_dir, self.managed = data_dir, managed

    @classmethod
    def start(cls) -> "S3Server":
        external = os.environ.get("BANLI_S3_ENDPOINT", "").strip()
        if external:
            return cls(external, os.environ.get("BANLI_S3_ACCESS_KEY", ""),
                       os.environ.get("BANLI_S3_SECRET_KEY", ""), managed=False)
        data_dir = Path(tempfile.mkdtemp(prefix="banli-s3proxy-")).resolve()
        port = _free_port()
        try:
            done = subprocess.run(["bash", str(S3PROXY_SH), "start", "--port", str(port),
                                   "--dir", str(data_dir)], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=START_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise S3ServerError(f"s3proxy.sh start timed out after {START_TIMEOUT_S:.0f}s") \
                from exc
        if done.returncode != 0:
            shutil.rmtree(data_dir, ignore_errors=True)
            raise S3ServerError(f"s3proxy.sh start failed (exit {done.returncode}):\n"
                                f"{done.stderr.strip()}\n{done.stdout.strip()}")
        endpoint = done.stdout.strip().splitlines()[-1]
        if endpoint != f"http://127.0.0.1:{port}":
            raise S3ServerError(f"s3proxy.sh printed {endpoint!r}")
        server = cls(endpoint, ACCESS_KEY, SECRET_KEY, data_dir)
        _live.add(server)
        return server

    def client(self):
        """A boto3 client for the server (path-style addressing)."""
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key,
                            config=Config(s3={"addressing_style": "path"}))

    def new_bucket(self) -> str:
        name = f"banli-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        if not self.managed or self.data_dir is None:
            return
        subprocess.run(["bash", str(S3PROXY_SH), "stop", "--dir", str(self.data_dir)],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        _live.discard(self)

    def cleanup(self) -> None:
        self.stop()
        if self.managed and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


@atexit.register
def _stop_leftovers() -> None:
    # A session that dies before fixture teardown must not leave a JVM behind.
    for server in list(_live):
        try:
            server.stop()
        except Exception:
            pass
