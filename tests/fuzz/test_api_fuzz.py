"""
Schema fuzzing: schemathesis generates requests for every operation in ``/api/schema``
(valid and invalid bodies, parameters and headers) and sends them through the WSGI app
with a valid ``X-platform-code`` and ``X-auth-token``. Every response must be a documented
status with a body matching the schema, and never a 5xx.

Bounded for CI: ``FUZZ_MAX_EXAMPLES`` examples per operation (default 25), no deadline.
"""

import os
import re

import pytest
import responses
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from employees.tokens import issue_token
from tests.factories import PlatformFactory, WechatUserFactory, make_world

# shanqian.wsgi's application, without its start-up key check (which reads the database, not open
# to a module being collected; tests/shanqian/test_fieldcrypt.py runs that check in a subprocess).
application = get_wsgi_application()

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
# What the API promises: no 5xx, only documented statuses, content types, headers and bodies.
# Not "schema-valid data is accepted": a schema-valid phone or region id may still not exist,
# and business validation (400 with field errors) is documented behaviour.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wechat_up():
    """WeChat answers code2Session for any code (mocked at the HTTP layer, so the real client runs)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.GET,
            re.compile(r"https://api\.weixin\.qq\.com/sns/jscode2session.*"),
            json={"openid": "o-fuzz", "session_key": "c2Vzc2lvbi1rZXk="},
        )
        yield mock


@pytest.fixture
def keep_test_connection():
    """Requests go straight to the WSGI app, so do what Django's test client does: keep the
    test's transaction open instead of closing "obsolete" connections at each request's end."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_user(db, wechat_up, keep_test_connection):
    world = make_world()
    platform = PlatformFactory(code="demo")
    user = WechatUserFactory(platform=platform)
    return {"world": world, "headers": {"X-platform-code": platform.code, "X-auth-token": issue_token(user=user)}}


# The schema view needs no database and no platform header, so it is loaded once at import.
schema = schemathesis.openapi.from_wsgi("/api/schema", application)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, fuzz_user):
    case.call_and_validate(headers=fuzz_user["headers"], checks=CHECKS)
