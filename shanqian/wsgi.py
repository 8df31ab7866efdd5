"""
WSGI config for shanqian project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanqian.settings")

application = get_wsgi_application()

# gunicorn runs no system checks: refuse to serve when the field-encryption keys cannot open the data.
from shanqian.fieldcrypt_checks import raise_on_errors  # noqa: E402

raise_on_errors()
