"""
System checks for the identity gateways: a misconfiguration fails ``manage.py
check`` (and ``migrate``/``runserver``) instead of surfacing at the first login.
The same rules are enforced again at run time (``employees.wechat.get_wechat_client``,
``employees.sms.get_backend``), because gunicorn does not run system checks.
"""

from django.conf import settings
from django.core.checks import Error, register

from .sms import BACKENDS as SMS_BACKENDS
from .wechat import fake_refused_reason


@register()
def identity_gateways_check(app_configs=None, **kwargs):
    errors = []
    reason = fake_refused_reason()
    if reason:
        errors.append(
            Error(reason, hint="设置 WECHAT_BACKEND=wechat，或仅在开发时设置 DJANGO_DEBUG=1。", id="employees.E001")
        )
    if settings.SMS_BACKEND not in SMS_BACKENDS:
        errors.append(
            Error(
                f"SMS_BACKEND={settings.SMS_BACKEND!r} 无效。",
                hint=f"可选：{', '.join(SMS_BACKENDS)}。",
                id="employees.E002",
            )
        )
    return errors
