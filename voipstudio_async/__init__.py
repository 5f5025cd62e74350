"""Asyncio SDK for the VoIPstudio History API.

```python
from voipstudio_async import VoipStudio

async with VoipStudio(user_id=123456, api_key="...") as vs:
    page = await vs.cdrs.list(limit=100, filter=[("duration", "gt", 60)])
```
"""

from importlib.metadata import version as _version

from ._auth import BasicAuth, LoginAuth, TokenAuth
from ._bulk import BulkResult, DeleteAllResult, ItemOutcome
from ._client import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_TIMEOUT,
    VoipStudio,
)
from ._download import (
    Destination,
    DownloadResult,
    DownloadStream,
    LocalDirectory,
    ManyProgressCallback,
    ProgressCallback,
)
from ._errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BulkOperationError,
    ClientClosedError,
    ConflictError,
    ErrorDetail,
    IncompleteDownloadError,
    InternalServerError,
    MissingExtraError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RateLimitWaitError,
    TwoFactorRequiredError,
    VoipStudioError,
)
from ._filters import Filter, FilterArg, FilterValue, Operator
from ._pagination import MAX_PAGE_SIZE, Page
from ._policies.budget import RetryBudget
from ._policies.ratelimit import RateLimit
from ._request.requester import NOT_GIVEN, NotGiven, RetryPolicy, TimeoutArg

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_AFTER",
    "DEFAULT_TIMEOUT",
    "MAX_PAGE_SIZE",
    "NOT_GIVEN",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BasicAuth",
    "BulkOperationError",
    "BulkResult",
    "ClientClosedError",
    "ConflictError",
    "DeleteAllResult",
    "Destination",
    "DownloadResult",
    "DownloadStream",
    "ErrorDetail",
    "Filter",
    "FilterArg",
    "FilterValue",
    "IncompleteDownloadError",
    "InternalServerError",
    "ItemOutcome",
    "LocalDirectory",
    "LoginAuth",
    "ManyProgressCallback",
    "MissingExtraError",
    "NotFoundError",
    "NotGiven",
    "Operator",
    "Page",
    "PermissionDeniedError",
    "ProgressCallback",
    "RateLimit",
    "RateLimitError",
    "RateLimitWaitError",
    "RetryBudget",
    "RetryPolicy",
    "TimeoutArg",
    "TokenAuth",
    "TwoFactorRequiredError",
    "VoipStudio",
    "VoipStudioError",
    "__version__",
]

__version__: str = _version("voipstudio-async")
"""The installed distribution's version (its metadata; `pyproject.toml` sets it)."""
