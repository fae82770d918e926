"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, s3proxy ...) through boto3.

Each blob is one object, `<prefix><digest>`, written whole by one PutObject: S3 makes an object
visible only once it is complete and durable, so there is never a partial blob to clean up (no
multipart uploads: a letter is far below PutObject's 5 GB). Freshening copies the object onto
itself with new metadata, which gives it a new LastModified (the time the sweep counts from).
The bucket is the deployment's to create; Banli never creates or deletes buckets."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, BinaryIO, Iterator, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import BlobInfo, BlobMissing, DigestMismatch, digest_of, is_digest

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore:
    def __init__(self, bucket: str, prefix: str = "letters/", endpoint_url: str | None = None,
                 region: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None):
        """Credentials: the keys given, else boto3's own chain (AWS_* variables, ~/.aws, an
        instance's role). An endpoint other than AWS's is addressed by path (bucket in the
        path, as S3-compatible servers expect)."""
        self.bucket, self.prefix = bucket, prefix
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            config=Config(signature_version="s3v4",
                          retries={"mode": "standard", "max_attempts": 5},
                          s3={"addressing_style": "path" if endpoint_url else "auto"}))

    def key(self, sha256: str) -> str:
        if not is_digest(sha256):
            raise ValueError(f"not a SHA-256 digest: {sha256!r}")
        return f"{self.prefix}{sha256}"

    def put(self, source: BinaryIO, sha256: str) -> None:
        found, size = digest_of(source)
        if found != sha256:
            raise DigestMismatch(f"the bytes hash to {found}, not {sha256}")
        source.seek(0)
        self.client.put_object(Bucket=self.bucket, Key=self.key(sha256), Body=source,
                               ContentLength=size)

    def freshen(self, sha256: str) -> bool:
        key = self.key(sha256)
        try:
            self.client.copy_object(
                Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
                Metadata={"freshened": datetime.now(timezone.utc).isoformat()})
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def stat(self, sha256: str) -> BlobInfo | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return BlobInfo(sha256, int(head["ContentLength"]), head["LastModified"].timestamp())

    @contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))["Body"]
        except ClientError as exc:
            if _missing(exc):
                raise BlobMissing(sha256) from None
            raise
        try:
            yield cast(BinaryIO, body)  # botocore's StreamingBody: read(n) and close()
        finally:
            body.close()

    def blobs(self) -> Iterator[BlobInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"][len(self.prefix):]
                if is_digest(name):
                    yield BlobInfo(name, int(item["Size"]), item["LastModified"].timestamp())

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))

    def remove_partial(self, before: float) -> int:
        return 0  # PutObject leaves nothing partial behind


def _missing(exc: ClientError) -> bool:
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Code")) in _MISSING or status == 404
