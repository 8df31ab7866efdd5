"""Back-office roles. A handler (人事专员) is an active staff account in this group."""

HANDLER_GROUP = "人事专员"


def handlers_queryset():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True, is_staff=True, groups__name=HANDLER_GROUP)
