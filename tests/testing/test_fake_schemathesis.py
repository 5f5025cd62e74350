"""A bounded property-based run of schemathesis against the fake on loopback.

Besides conformance of the answers, the fake must accept what the spec calls valid,
reject what it calls invalid (schemathesis's coverage phase sends negative data and
undeclared methods), and answer 405 with an `Allow` that lists the spec's methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from voipstudio_async.testing import FakeVoipStudio, serve_in_thread

pytestmark = pytest.mark.slow

SPEC = Path(__file__).parents[2] / "openapi" / "history.yaml"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    negative_data_rejection,
    unsupported_method,
    allow_header_conformance,
]

schema = schemathesis.openapi.from_path(SPEC)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, dict[str, str]]]:
    fake = FakeVoipStudio(seed=2, cdrs=200, monitors=20, msdrs=20, chats=5, voicemessages=20)
    token = fake.credentials.api_key
    with serve_in_thread(fake) as base_url:
        yield base_url, {"X-Auth-Token": token}


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_fake_conforms(case: schemathesis.Case, served: tuple[str, dict[str, str]]) -> None:
    base_url, headers = served
    case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)
