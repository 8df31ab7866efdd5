"""
Settings for benchmarks and load tests (``DJANGO_SETTINGS_MODULE=bench.settings``): production's
settings (``shanqian.settings``, read from the environment as usual) plus the ``bench`` app — its
management commands (``bench_load``, ``bench_transition``) and the framework-ceiling view.
"""

from shanqian.settings import *  # noqa: F403

# ``import *`` skips private names; the field-key system check compares against these development keys.
from shanqian.settings import _DEV_FIELD_BLIND_INDEX_KEY, _DEV_FIELD_ENCRYPTION_KEYS  # noqa: F401

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]  # noqa: F405
ROOT_URLCONF = "bench.urls"
