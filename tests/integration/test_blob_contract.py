"""The blob store port's contract, one suite run against both adapters (as the event log's is):
a directory (the data dir, a shared volume) and an S3-compatible bucket on a real S3 server
(s3proxy, deploy/s3proxy/), through boto3. The same assertions for both, the sweep's included."""
from __future__ import annotations

import io
import os
import threading
import time

import pytest

from banli.blobs import BlobMissing, BlobStore, DigestMismatch, digest_of
from banli.blobs.files import DirBlobStore
from banli.blobs.sweep import sweep

HOUR = 3600.0


def blob(text: str) -> tuple[bytes, str]:
    data = f"%PDF-1.7 {text}\n".encode() * 50
    return data, digest_of(io.BytesIO(data))[0]


@pytest.fixture(params=["dir", pytest.param("s3", marks=pytest.mark.s3)])
def store(request, tmp_path) -> BlobStore:
    if request.param == "dir":
        return DirBlobStore(tmp_path / "letters")
    from banli.blobs.s3 import S3BlobStore

    server = request.getfixturevalue("s3_server")
    return S3BlobStore(server.new_bucket(), prefix="letters/", endpoint_url=server.endpoint,
                       region="us-east-1", access_key=server.access_key,
                       secret_key=server.secret_key)


def read(store: BlobStore, sha256: str) -> bytes:
    with store.open(sha256) as file:
        return file.read()


def test_a_blob_is_stored_and_read_back_by_its_digest(store):
    data, sha = blob("one")
    assert store.stat(sha) is None
    store.put(io.BytesIO(data), sha)
    assert read(store, sha) == data
    info = store.stat(sha)
    assert (info.sha256, info.size) == (sha, len(data))
    assert abs(info.modified - time.time()) < 120
    assert [b.sha256 for b in store.blobs()] == [sha]


def test_the_source_is_read_from_its_start_and_in_chunks_larger_than_one(store):
    data = os.urandom(300_000)
    sha = digest_of(io.BytesIO(data))[0]
    source = io.BytesIO(data)
    source.seek(12345)  # wherever the caller left it
    store.put(source, sha)
    with store.open(sha) as file:
        assert file.read(10) == data[:10] and file.read() == data[10:]


def test_bytes_that_are_not_their_digest_are_not_stored(store):
    data, _ = blob("one")
    _, other = blob("two")
    with pytest.raises(DigestMismatch):
        store.put(io.BytesIO(data), other)
    assert store.stat(other) is None and list(store.blobs()) == []
    assert store.remove_partial(time.time() + HOUR) == 0  # nothing half-written left behind


def test_storing_the_same_bytes_again_keeps_one_copy(store):
    data, sha = blob("one")
    store.put(io.BytesIO(data), sha)
    store.put(io.BytesIO(data), sha)
    assert [b.sha256 for b in store.blobs()] == [sha] and read(store, sha) == data


def test_a_missing_blob_is_none_false_and_blob_missing(store):
    _, sha = blob("none")
    assert store.stat(sha) is None
    assert store.freshen(sha) is False
    with pytest.raises(BlobMissing):
        with store.open(sha):
            pass
    store.delete(sha)  # nothing happens


def test_a_deleted_blob_is_gone(store):
    data, sha = blob("one")
    store.put(io.BytesIO(data), sha)
    store.delete(sha)
    assert store.stat(sha) is None and list(store.blobs()) == []


def test_freshening_moves_the_blobs_time_on(store):
    data, sha = blob("one")
    store.put(io.BytesIO(data), sha)
    before = store.stat(sha).modified
    deadline = time.monotonic() + 10  # S3 keeps whole seconds: wait for the next one
    while store.freshen(sha) and store.stat(sha).modified <= before:
        assert time.monotonic() < deadline, "freshening never moved the time on"
        time.sleep(0.2)
    assert read(store, sha) == data  # the bytes stay as they were


def test_only_digests_name_blobs(store):
    for bad in ("../../etc/passwd", "AB" * 32, "ab" * 31, ""):
        with pytest.raises(ValueError):
            store.stat(bad)


def test_many_threads_store_and_read_at_once(store):
    blobs = [blob(f"t{i}") for i in range(8)]
    errors: list[BaseException] = []

    def work(data: bytes, sha: str) -> None:
        try:
            for _ in range(3):
                store.put(io.BytesIO(data), sha)
                assert read(store, sha) == data
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=b) for b in blobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(b.sha256 for b in store.blobs()) == sorted(sha for _, sha in blobs)


# --- the sweep, over either store ----------------------------------------------------------------
def test_the_sweep_keeps_what_events_reference_and_what_is_young_and_removes_old_orphans(store):
    (kept_data, kept), (orphan_data, orphan) = blob("referenced"), blob("orphan")
    store.put(io.BytesIO(kept_data), kept)
    store.put(io.BytesIO(orphan_data), orphan)
    now = time.time()

    young = sweep(store, lambda: {kept}, grace_s=HOUR, now=now)  # both just stored
    assert (young.young, young.removed) == (2, [])

    dry = sweep(store, lambda: {kept}, grace_s=HOUR, now=now + 2 * HOUR, dry_run=True)
    assert dry.removed == [orphan] and store.stat(orphan) is not None

    done = sweep(store, lambda: {kept}, grace_s=HOUR, now=now + 2 * HOUR)
    assert (done.referenced, done.removed) == (1, [orphan])
    assert store.stat(orphan) is None and read(store, kept) == kept_data


def test_the_sweep_reads_the_references_after_listing_and_spares_a_blob_named_meanwhile(store):
    data, sha = blob("named while sweeping")
    store.put(io.BytesIO(data), sha)
    grace = 1.5
    deadline = time.monotonic() + 30
    while time.time() - store.stat(sha).modified <= grace:  # until it is past the grace period
        assert time.monotonic() < deadline
        time.sleep(0.1)

    def log_read_while_a_reply_names_it() -> set[str]:
        assert store.freshen(sha)  # the edge freshens the letter before sending the reply
        return set()  # the reply is not in the log yet

    # listed as old, then named before the log shows it: the second look keeps it
    swept = sweep(store, log_read_while_a_reply_names_it, grace_s=grace, now=time.time())
    assert (swept.removed, swept.young) == ([], 1) and read(store, sha) == data


def test_the_sweep_removes_writes_a_crash_cut_short(tmp_path):
    store = DirBlobStore(tmp_path / "letters")
    partial = store.partial_dir / "0123456789ab.x"
    partial.write_bytes(b"%PDF-1.7 half")
    os.utime(partial, (time.time() - 2 * HOUR,) * 2)
    fresh = store.partial_dir / "fedcba987654.y"
    fresh.write_bytes(b"%PDF-1.7 under way")
    swept = sweep(store, set, grace_s=HOUR, now=time.time())
    assert swept.partial == 1 and not partial.exists() and fresh.exists()
    assert list(store.blobs()) == []


def test_a_blob_is_durable_once_put_returns(tmp_path):
    """The directory adapter writes a blob under partial/, fsyncs it, renames it into place and
    fsyncs the directory: after `put` the file is whole under its name, nothing is left in
    partial/, and its permissions are the owner's only."""
    store = DirBlobStore(tmp_path / "letters")
    data, sha = blob("durable")
    store.put(io.BytesIO(data), sha)
    path = store.path(sha)
    assert path.read_bytes() == data and path.parent.parent == store.blob_dir
    assert list(store.partial_dir.iterdir()) == []
    assert path.stat().st_mode & 0o077 == 0
