"""
Back-office roles. A handler (人事专员) is an active staff account in this group.

``ensure_handler_group()`` creates the group with the permissions a handler needs
(review and act on signing applications, read resumes and reference data, decide
real-name verifications, carry out or refuse the deletion requests of their people). It only
adds: permissions staff granted the group on top are kept. It runs on every ``migrate``
(``post_migrate``, see ``shanqian.apps``) and from ``seed_demo``.

Which rows a staff account sees is narrowed further by the admin: a superuser sees
everything (``sees_everything``); anyone else — a handler, or staff given model
permissions by hand — sees only the applications assigned to them and the resumes and
real-name checks of those applicants. Personal numbers are masked for everybody, superusers
included, until revealed on a page (``shanqian.admin_personal``).

Handlers deliberately get no permission on ``WechatUser`` or ``Upload``: those
lists span every applicant; the review pages show the ID card photos themselves.
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

HANDLER_GROUP = "人事专员"

HANDLER_PERMISSIONS = (
    "signing.view_signapplication",
    "signing.change_signapplication",
    "signing.view_signevent",
    "signing.view_signeddocument",
    "signing.view_employmentcontract",
    "signing.change_employmentcontract",
    "signing.view_deletionrequest",
    "signing.change_deletionrequest",
    "employees.view_employee",
    "employees.view_employeeeducation",
    "employees.view_workexperience",
    "employees.view_realnameverification",
    "employees.change_realnameverification",
    "contracts.view_company",
    "contracts.view_workposition",
    "contracts.view_contract",
    "contracts.view_companyseal",
    "contracts.view_sealauthorisation",
    "dictionaries.view_dictionary",
    "dictionaries.view_region",
)


def sees_everything(user) -> bool:
    """Superusers see every application, resume and verification; everybody else only their own."""
    return bool(user.is_active and user.is_superuser)


def handlers_queryset():
    return get_user_model().objects.filter(is_active=True, is_staff=True, groups__name=HANDLER_GROUP)


def ensure_handler_group():
    """The 人事专员 group with at least ``HANDLER_PERMISSIONS`` (idempotent)."""
    wanted = {tuple(name.split(".", 1)) for name in HANDLER_PERMISSIONS}

    def lookup():
        candidates = Permission.objects.filter(
            content_type__app_label__in={app for app, _ in wanted}, codename__in={code for _, code in wanted}
        ).select_related("content_type")
        return [perm for perm in candidates if (perm.content_type.app_label, perm.codename) in wanted]

    permissions = lookup()
    if len(permissions) < len(wanted):
        # Permissions are made by post_migrate; create them now if this runs before that.
        for app_label in {app for app, _ in wanted}:
            create_permissions(apps.get_app_config(app_label), verbosity=0)
        permissions = lookup()
    group, _ = Group.objects.get_or_create(name=HANDLER_GROUP)
    group.permissions.add(*permissions)
    return group
