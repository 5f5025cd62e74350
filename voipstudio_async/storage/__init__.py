"""Object storage: downloads and exports written to ``s3://`` (the ``s3`` extra).

``S3Destination`` is an S3 prefix the SDK's downloads save into, as they save into a
local directory: ``vs.monitors.download_many(ids, S3Destination("s3://b/calls/"))``
saves recordings or voicemails below it with a ``manifest.jsonl``, resumably (also as
one call, ``download_to_s3``), and ``vs.users.export_cdrs_csv(uid, S3Destination(...))``
streams an export into one object; ``S3Store.upload`` writes any stream as one object.
Every object appears complete or not at all and is checked by S3 against its SHA-256
(``ChecksumSHA256`` per part, returned on HEAD); ``S3Manifest.verified`` confirms an
object before anything is deleted at the source. S3 calls go through aiobotocore's
public client; its retries of throttling and transient S3 errors are botocore's
(``standard`` mode), apart from the API client's retries and retry budget. Importing
this package needs nothing extra; an ``S3Destination`` or ``S3Store`` needs
``pip install 'voipstudio-async[s3]'`` (else ``MissingExtraError``, before anything is
sent).
"""

from .._errors import MissingExtraError
from ._archive import StoredItemCallback, download_to_s3
from ._destination import S3Destination, StoredFile
from ._entries import MANIFEST_NAME, ManifestEntry
from ._location import S3Location, parse_s3_url
from ._manifest import S3Manifest
from ._s3 import PART_SIZE, S3Store, StoredObject, Upload, Uploaded, checksums_match

__all__ = [
    "MANIFEST_NAME",
    "PART_SIZE",
    "ManifestEntry",
    "MissingExtraError",
    "S3Destination",
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
