"""Object storage: downloads and exports written to ``s3://`` (the ``s3`` extra).

``download_to_s3`` saves recordings or voicemails under an S3 prefix with a
``manifest.jsonl``, resumably; ``S3Store.upload`` writes any stream (an export) as one
object. Every object appears complete or not at all and is checked by S3 against its
SHA-256 (``ChecksumSHA256`` per part, returned on HEAD); ``S3Manifest.verified``
confirms an object before anything is deleted at the source. S3 calls go through
aiobotocore's public client; its retries of throttling and transient S3 errors are
botocore's (``standard`` mode), apart from the API client's retries and retry budget.
Importing this package needs nothing extra; opening an ``S3Store`` needs
``pip install 'voipstudio-async[s3]'``.
"""

from ._archive import StoredFile, StoredItemCallback, download_to_s3
from ._entries import MANIFEST_NAME, ManifestEntry
from ._location import S3Location, parse_s3_url
from ._manifest import S3Manifest
from ._s3 import PART_SIZE, S3Store, StoredObject, Upload, Uploaded, checksums_match

__all__ = [
    "MANIFEST_NAME",
    "PART_SIZE",
    "ManifestEntry",
    "S3Location",
    "S3Manifest",
    "S3Store",
    "StoredFile",
    "StoredItemCallback",
    "StoredObject",
    "Upload",
    "Uploaded",
    "checksums_match",
    "download_to_s3",
    "parse_s3_url",
]
