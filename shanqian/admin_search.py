"""
Admin searches that leave no search term in a URL (issue 15, finding 8).

A changelist search is very often a phone or an ID number, and a term in the query string ends up
in access logs (a proxy's, if not ours), the browser's history and the ``Referer`` of every link on
the page. So the term never travels in a URL:

* the search box (``templates/admin/search_form.html``) POSTs the term to the changelist;
  ``SearchTokenMixin.changelist_view`` keeps it in the session under a short random token and
  answers 303 to ``?qs=<token>`` (the page's other parameters — filters, ordering, popup — kept);
* a GET that still carries ``?q=`` (an old bookmark, a hand-typed URL) is answered the same way,
  so the term is in one request line at most and never in the history or a ``Referer``;
* ``?qs=<token>`` is looked up in the current session only: a token from another session, or
  one that has aged out (the last ``KEEP`` searches are kept), is not a search — the page says
  so and shows the list without it;
* ``TokenChangeList`` reads the term from the token and keeps ``qs`` in every link it builds
  (pagination, filters, sorting, the preserved filters of the change page), so paging and
  filtering keep the search without ever spelling it. The term is shown only in the search box.
* the session keeps the term encrypted (``shanqian.fieldcrypt``, as the ID numbers are): the
  session store (the ``django_session`` table by default) holds session data merely encoded, and
  a searched phone or ID number must not rest there in the clear. A term kept under a key that
  has since been removed reads as an aged-out search.

``ShanqianAdminSite.register`` puts the mixin in front of every registered ModelAdmin, so no
changelist can be left out. Exports that rebuild the changelist from the query string
(``export/?qs=…``) resolve the token the same way through ``get_changelist_instance``.

The admin's autocomplete (``/admin/autocomplete/?term=``) still sends its term in the URL; it is
used only for non-personal models (employers), which ``tests/shanqian/test_admin_search.py``
holds every registered ``autocomplete_fields`` to, and the access log drops query strings anyway
(``shanqian/gunicorn_conf.py``).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList, ChangeListSearchForm
from django.http import HttpResponseRedirect

from .fieldcrypt import FieldDecryptionError, FieldKeyError, decrypt, encrypt

TOKEN_VAR = "qs"
SUBMIT_MARKER = "_sq_search"
SESSION_KEY = "sq_admin_searches"
KEEP = 20
_NOT_CARRIED = {SEARCH_VAR, TOKEN_VAR, SUBMIT_MARKER, "csrfmiddlewaretoken", "p"}
EXPIRED_MESSAGE = "搜索条件已失效，请重新输入搜索内容。"
PURPOSE = "admin-search"


def remember(request, term: str) -> str:
    """Keep ``term`` in the session; the token that names it."""
    searches = dict(request.session.get(SESSION_KEY) or {})
    token = secrets.token_urlsafe(9)
    searches[token] = encrypt(term, purpose=PURPOSE)
    request.session[SESSION_KEY] = dict(list(searches.items())[-KEEP:])
    return token


def recall(request, token: str) -> str | None:
    """The term this session kept under ``token``, or None."""
    if not token:
        return None
    kept = (request.session.get(SESSION_KEY) or {}).get(token)
    if not isinstance(kept, str):
        return None
    try:
        return decrypt(kept, purpose=PURPOSE)
    except (FieldDecryptionError, FieldKeyError):
        return None


class _SeeOther(HttpResponseRedirect):
    status_code = 303


def _redirect(request, params: list[tuple[str, str]], path: str | None = None) -> _SeeOther:
    path = path or request.path
    query = urlencode(params)
    response = _SeeOther(f"{path}?{query}" if query else path)
    response["Cache-Control"] = "no-store"
    return response


def search_redirect(request, *, expired_path: str | None = None) -> _SeeOther | None:
    """
    The 303 that moves a search term out of the request into the session, or that drops a token
    this session does not know (to ``expired_path``, the list by default: an export of a lost
    search must not become an export of everything); None when the request may be served as it is.
    """
    if request.method == "POST" and SUBMIT_MARKER in request.POST:
        source, term = request.POST, request.POST.get(SEARCH_VAR, "")
    elif request.method == "GET" and SEARCH_VAR in request.GET:
        source, term = request.GET, request.GET.get(SEARCH_VAR, "")
    elif request.method == "GET" and TOKEN_VAR in request.GET and recall(request, request.GET[TOKEN_VAR]) is None:
        messages.warning(request, EXPIRED_MESSAGE)
        if expired_path is not None:
            return _redirect(request, [], expired_path)
        return _redirect(request, [(k, v) for k, v in request.GET.items() if k not in _NOT_CARRIED])
    else:
        return None
    params = [(k, v) for k, v in source.items() if k not in _NOT_CARRIED]
    term = term.strip()
    if term:
        params.append((TOKEN_VAR, remember(request, term)))
    return _redirect(request, params)


class TokenChangeList(ChangeList):
    """A ChangeList whose search term comes from ``?qs=<token>`` (see the module docstring)."""

    def __init__(self, request, *args, **kwargs):
        self._token_term = recall(request, request.GET.get(TOKEN_VAR, "")) or ""
        super().__init__(request, *args, **kwargs)

    def search_form_class(self, data):
        data = data.copy()
        data.pop(TOKEN_VAR, None)
        data[SEARCH_VAR] = self._token_term
        return ChangeListSearchForm(data)

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(TOKEN_VAR, None)
        return lookup_params


class SearchTokenMixin:
    """For a ModelAdmin: searches through the session token, never through the URL."""

    def get_changelist(self, request, **kwargs):
        base = super().get_changelist(request, **kwargs)
        if issubclass(base, TokenChangeList):
            return base
        return type(f"Token{base.__name__}", (TokenChangeList, base), {})

    def changelist_view(self, request, extra_context=None):
        return search_redirect(request) or super().changelist_view(request, extra_context)
