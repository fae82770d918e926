"""The blob store the settings name (banli.blobs): the one choice of adapter, for every
composition root."""
from __future__ import annotations

from banli.blobs import BlobStore
from banli.blobs.files import DirBlobStore
from banli.settings import Settings


def blob_store(settings: Settings) -> BlobStore:
    """The blob store the settings name: an S3-compatible bucket when `letters_s3_bucket` is set,
    else the directory `letters_path` (default <data dir>/letters)."""
    if settings.letters_s3_bucket:
        from banli.blobs.s3 import S3BlobStore  # boto3 is loaded only where a bucket is used

        return S3BlobStore(settings.letters_s3_bucket, prefix=settings.letters_s3_prefix,
                           endpoint_url=settings.letters_s3_endpoint,
                           region=settings.letters_s3_region,
                           access_key=settings.letters_s3_access_key,
                           secret_key=settings.letters_s3_secret_key)
    return DirBlobStore(settings.letters_path)
