"""Requests and readings of the back office's pages in tests: logged-in clients, action posts, messages."""

import datetime

from django.test import Client

from signing.models import SignApplication

CHANGELIST = "/admin/signing/signapplication/"


def client_for(user) -> Client:
    """A Django test client logged in as ``user`` (the back office)."""
    client = Client()
    client.force_login(user)
    return client


def approve_data(the_contract, **overrides):
    return {
        "contract": the_contract.pk,
        "entry_date": (datetime.date.today() + datetime.timedelta(days=7)).isoformat(),
        "salary": "8500.00",
        **overrides,
    }


def action_post(client, action, ids, *, confirm=False, url=CHANGELIST, **data):
    payload = {"action": action, "_selected_action": [str(pk) for pk in ids], **data}
    if confirm:
        payload["post"] = "yes"
    else:
        payload["index"] = "0"
    return client.post(url, payload)


def messages_of(response, level: str | None = None) -> list[str]:
    """The admin messages shown on the (final) page, optionally of one level ("error", "success"…)."""
    if not response.context or "messages" not in response.context:
        return []
    return [str(m) for m in response.context["messages"] if level is None or m.level_tag == level]


def statuses(*applications) -> list[int]:
    return [SignApplication.objects.get(pk=app.pk).status for app in applications]


def search(client, url, term, **params):
    """A changelist search the way the search box sends it (a POST, then the ``?qs=`` page); the final page."""
    return client.post(url, {"q": term, "_sq_search": "1", **params}, follow=True)


def search_query(client, url, term, **params) -> str:
    """The ``?qs=<token>…`` query string a search leads to (``shanqian.admin_search``)."""
    response = client.post(url, {"q": term, "_sq_search": "1", **params})
    assert response.status_code == 303, response.status_code
    location = response["Location"]
    assert term not in location and "qs=" in location, location
    return location[location.index("?") :]
