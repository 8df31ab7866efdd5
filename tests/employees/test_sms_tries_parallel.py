"""
Issue 15, finding 3: 60 parallel wrong guesses left ``failed_tries`` at 6 with a limit of 5.

Threads against a live server (each request on its own database connection), on PostgreSQL
or MariaDB: the counter never passes the limit, at most ``SMS_CODE_MAX_TRIES`` guesses are
answered "wrong, n left", every other one "too many", and the right code is refused once the
tries are used up — a burst of parallel guesses buys no extra tries.
"""

import pytest
import requests

from employees.models import SmsCode
from employees.tokens import issue_token
from tests.factories import resume_payload, sms_code
from tests.support.parallel import fire, post_retrying, row_locking_database_or_skip

N = 60


def test_parallel_wrong_guesses_never_pass_the_try_limit(live_server, world, wechat_user, settings):
    """Finding 3: the try counter is a conditional increment, atomic across connections."""
    row_locking_database_or_skip()
    limit = settings.SMS_CODE_MAX_TRIES
    payload = resume_payload(world, wechat_user, with_code=False)
    right = sms_code(payload["phone"])
    wrong = "000000" if right != "000000" else "111111"
    headers = {"X-platform-code": wechat_user.platform.code, "X-auth-token": issue_token(user=wechat_user)}

    def guess(i):
        return post_retrying(
            f"{live_server.url}/api/employee", json={**payload, "sms_code": wrong}, headers=headers, timeout=60
        ).json()

    answers = fire(N, guess)

    assert all(isinstance(a, dict) for a in answers), [a for a in answers if not isinstance(a, dict)][:3]
    assert [a for a in answers if a["status"] != 42201] == []
    counted = [a for a in answers if "还可尝试" in a["msg"]]
    row = SmsCode.objects.get(phone=payload["phone"])
    assert row.failed_tries == limit
    assert len(counted) <= limit - 1  # the last counted try already says "too many"
    late = requests.post(
        f"{live_server.url}/api/employee", json={**payload, "sms_code": right}, headers=headers, timeout=60
    ).json()
    assert late["status"] == 42201 and "次数过多" in late["msg"]
    print(f"\nSMS tries: {N} parallel wrong guesses, limit {limit}: failed_tries={row.failed_tries}")


@pytest.mark.django_db
def test_a_right_code_after_wrong_ones_gives_its_claim_back(user_api, world, settings):
    """Finding 3: a right answer claims a try and hands it back when the code is spent."""
    payload = resume_payload(world, user_api.user, with_code=False)
    right = sms_code(payload["phone"])
    user_api.post("/api/employee", {**payload, "sms_code": "999999" if right != "999999" else "888888"}, format="json")

    response = user_api.post("/api/employee", {**payload, "sms_code": right}, format="json")

    assert response.json()["status"] == 0, response.json()
    row = SmsCode.objects.get(phone=payload["phone"])
    assert row.used_at is not None and row.failed_tries == 1
