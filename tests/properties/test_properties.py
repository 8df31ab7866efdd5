"""
Property tests: the ID-number validator and the signing state machine.

ID numbers (GB 11643, ISO 7064 MOD 11-2): the check character is
``CHECK_CHARS[Σ wᵢ·dᵢ mod 11]`` with weights ``wᵢ = 2^(17-i) mod 11``, none of them 0.
Changing digit i by Δ (1 ≤ |Δ| ≤ 9) moves the sum by wᵢ·Δ, and since 11 is prime and
neither factor is a multiple of 11, wᵢ·Δ ≢ 0 (mod 11): the expected check character
changes, so the unchanged 18th character no longer matches. Changing the 18th character
itself leaves the expected one as it was. So *every* single-character change of a valid
number is rejected — there is no exception (a change may also be refused earlier, for
the shape or an impossible birth date, which is still a rejection). Lower-case ``x`` is
not a change: it is accepted and stored upper-case.

State machine: any sequence of moves on a fresh application changes the status only
along ``signing.services.applications.ALLOWED``; a refused move changes nothing; the audit events
record exactly the transitions that happened.
"""

import contextlib
import datetime
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from employees.idcard import CHECK_CHARS, WEIGHTS, IdNumberError, make_id_number, parse_id_number
from shanqian.errors import ApiError
from signing.models import SignApplication, SignEvent, SignStatus
from signing.services.applications import ALLOWED, MOVES
from tests.factories import EmployeeFactory, SignApplicationFactory, WechatUserFactory, perform_move

TODAY = datetime.date.today()

id_parts = st.tuples(
    st.integers(min_value=110000, max_value=659999).map(str),
    st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
)


def test_weights_are_never_a_multiple_of_eleven():
    assert all(w % 11 for w in WEIGHTS)
    assert tuple(pow(2, 17 - i, 11) for i in range(17)) == WEIGHTS


@given(id_parts)
def test_every_generated_number_is_accepted(parts):
    address, birth, sequence = parts
    number = make_id_number(address=address, birth=birth, sequence=sequence)

    parsed = parse_id_number(number, today=TODAY)

    assert parsed.number == number
    assert parsed.birth_date == birth
    assert parsed.gender == (1 if sequence % 2 else 2)
    assert parse_id_number(number.lower(), today=TODAY).number == number


@given(id_parts, st.integers(min_value=0, max_value=17), st.sampled_from(CHECK_CHARS))
def test_every_single_character_change_is_rejected(parts, position, replacement):
    address, birth, sequence = parts
    number = make_id_number(address=address, birth=birth, sequence=sequence)
    if number[position] == replacement:
        replacement = CHECK_CHARS[(CHECK_CHARS.index(replacement) + 1) % len(CHECK_CHARS)]
    changed = number[:position] + replacement + number[position + 1 :]

    with pytest.raises(IdNumberError):
        parse_id_number(changed, today=TODAY)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Moves of an existing application (``renew`` opens one from a ledger record instead).
@given(moves=st.lists(st.sampled_from(sorted(name for name, move in MOVES.items() if move.sources)), max_size=6))
def test_no_sequence_of_moves_leaves_the_table(world, moves):
    employee = EmployeeFactory(user=WechatUserFactory(verify_status=2))
    application = SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, work_pos="前台")
    statuses = [application.status]

    for move in moves:
        before = statuses[-1]
        with contextlib.suppress(ApiError):
            perform_move(move, SignApplication.objects.get(pk=application.pk), world)
        after = SignApplication.objects.get(pk=application.pk).status
        if after != before:
            assert after in ALLOWED[before], (move, before, after)
            assert before in MOVES[move].sources and after == MOVES[move].target
            statuses.append(after)
        else:
            assert before not in MOVES[move].sources, f"{move} from {before} should have moved"

    events = list(
        SignEvent.objects.filter(application=application, kind=SignEvent.Kind.TRANSITION)
        .order_by("id")
        .values_list("from_status", "to_status")
    )
    assert events == list(itertools.pairwise(statuses))
    assert statuses[0] == SignStatus.APPLIED
