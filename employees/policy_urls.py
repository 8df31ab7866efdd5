"""Pages outside /api: the public text of a published consent policy (``/policies/<id>``)."""

from django.urls import path

from .consent_views import policy_text

urlpatterns = [path("<int:pk>", policy_text, name="consent-policy-text")]
