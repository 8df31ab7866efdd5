"""``GET /api/handlers`` (SPEC §4.8): active staff in the 人事专员 group."""

import pytest
from django.contrib.auth.models import Group

from shanqian.roles import HANDLER_GROUP
from tests.factories import AdminUserFactory, HandlerFactory

pytestmark = pytest.mark.django_db


def test_handlers_lists_active_staff_in_the_handler_group(user_api):
    wang = HandlerFactory(name="王芳")
    li = HandlerFactory(name="李强")
    HandlerFactory(name="离职", is_active=False)
    HandlerFactory(name="非后台", is_staff=False)
    AdminUserFactory(name="财务")  # staff, not a handler
    AdminUserFactory(name="超管", is_superuser=True)

    response = user_api.get("/api/handlers")

    assert response.status_code == 200
    assert response.json()["data"] == [{"id": wang.id, "name": "王芳"}, {"id": li.id, "name": "李强"}]


def test_a_handler_without_a_name_shows_the_username(user_api):
    handler = HandlerFactory(name="", username="zhangsan")

    assert user_api.get("/api/handlers/").json()["data"] == [{"id": handler.id, "name": "zhangsan"}]


def test_a_handler_in_several_groups_is_listed_once(user_api):
    handler = HandlerFactory(name="王芳")
    handler.groups.add(Group.objects.create(name="其他组"))

    assert user_api.get("/api/handlers").json()["data"] == [{"id": handler.id, "name": "王芳"}]


def test_no_handlers_is_an_empty_list(user_api):
    assert user_api.get("/api/handlers").json()["data"] == []


def test_handlers_needs_a_login(api):
    HandlerFactory()

    response = api.get("/api/handlers")

    assert response.status_code == 401
    assert response.json()["status"] == 40100


def test_handlers_query_count_does_not_grow(user_api, django_assert_max_num_queries):
    group, _ = Group.objects.get_or_create(name=HANDLER_GROUP)
    for n in range(60):
        AdminUserFactory(name=f"专员{n}").groups.add(group)

    with django_assert_max_num_queries(3):  # platform (cold cache), token, handlers
        response = user_api.get("/api/handlers")

    assert len(response.json()["data"]) == 60
