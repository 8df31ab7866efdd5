"""Settings rules, production checks, the OpenAPI schema and the platform admin."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from shanqian.models import Platform
from tests.factories import AdminUserFactory, PlatformFactory

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DJANGO_DEBUG"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def _environment_variables(path: Path, pattern: str) -> set[str]:
    return set(re.findall(pattern, path.read_text(encoding="utf-8")))


def test_every_environment_variable_is_documented_in_docs_configuration():
    documented = set(
        re.findall(r"`([A-Z][A-Z0-9_]+)`", (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8"))
    )
    read = _environment_variables(ROOT / "shanqian" / "settings.py", r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]+)\"")
    read |= _environment_variables(
        ROOT / "shanqian" / "gunicorn_conf.py", r"os\.environ\.get\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']"
    )
    assert len(read) > 100  # the patterns still find what settings.py reads

    missing = sorted(read - documented)

    assert not missing, f"add these to docs/configuration.md (default and meaning): {missing}"


def test_readme_links_stay_inside_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target


def test_production_refuses_to_start_without_secret_key():
    result = _manage("check", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        SECRET_KEY="x" * 30 + "-prod-grade-secret-key-with-enough-entropy-" + "y" * 20,
        ALLOWED_HOSTS="shanqian.example.com",
        SECURE_SSL_REDIRECT="1",
        SESSION_COOKIE_SECURE="1",
        CSRF_COOKIE_SECURE="1",
        SECURE_HSTS_SECONDS="31536000",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SIGNING_TSA_URL="https://tsa.example.com/tsr",
        SIGNING_KEY_PASSPHRASE="p" * 32,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_schema_is_served_without_platform_header_and_documents_the_envelope(db):
    response = Client().get("/api/schema", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "ErrorEnvelope" in schema["components"]["schemas"]
    assert "40001" in schema["info"]["description"]


def test_swagger_ui_is_served_from_local_assets(db):
    response = Client().get("/api/docs")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
    assert b"cdn.jsdelivr" not in response.content


def test_every_documented_operation_declares_the_platform_header(db):
    schema = Client().get("/api/schema", {"format": "json"}).json()

    for path, item in schema["paths"].items():
        for method, operation in item.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            assert "X-platform-code" in names, (method, path)


@pytest.mark.django_db
def test_platform_secret_is_write_only_in_the_admin():
    admin = AdminUserFactory(is_superuser=True)
    platform = PlatformFactory(code="p1", wechat_secret="s3cr3t-value")
    client = Client()
    client.force_login(admin)

    page = client.get(f"/admin/shanqian/platform/{platform.pk}/change/")

    assert page.status_code == 200
    assert "s3cr3t-value" not in page.content.decode()

    response = client.post(
        f"/admin/shanqian/platform/{platform.pk}/change/",
        {"code": "p1", "name": "改名", "wechat_appid": "wx1", "wechat_secret": "", "enabled": "on"},
    )
    assert response.status_code == 302
    platform.refresh_from_db()
    assert (platform.name, platform.wechat_secret) == ("改名", "s3cr3t-value")


@pytest.mark.django_db
def test_disabling_a_platform_takes_effect_at_once(api):
    from django.core.cache import cache

    api.get("/api/no-such")  # warms the platform cache
    platform = Platform.objects.get(code="demo")
    platform.enabled = False
    platform.save()

    assert api.get("/api/no-such").json()["status"] == 40301
    # The save's signal dropped the cached platform; the request after it cached the miss.
    assert cache.get("platform:demo") == "missing"


def test_schema_documents_token_auth_and_canonical_paths(db):
    schema = Client().get("/api/schema", {"format": "json"}).json()

    assert schema["components"]["securitySchemes"]["sessionToken"]["name"] == "X-auth-token"
    assert "/api/companies" in schema["paths"]
    assert not [path for path in schema["paths"] if path.endswith("/")]
    assert schema["paths"]["/api/companies"]["get"]["security"] == [{"sessionToken": []}]


def test_whitenoise_serves_collected_admin_static_in_production(tmp_path):
    production = {
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "static-test-secret-key-0123456789abcdef-0123456789",
        "STATIC_ROOT": str(tmp_path / "static"),
        "STATICFILES_MANIFEST": "1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "testserver",
    }
    assert _manage("collectstatic", "--noinput", "-v", "0", **production).returncode == 0

    probe = (
        "from django.test import Client; from django.templatetags.static import static; "
        "url = static('admin/css/base.css'); r = Client().get(url); "
        "print(url, r.status_code, r.get('Cache-Control', '').replace(' ', ''))"
    )
    result = _manage("shell", "-c", probe, **production)

    url, status, cache_control = result.stdout.strip().splitlines()[-1].split()
    assert result.returncode == 0, result.stderr
    assert url.startswith("/static/admin/css/base.") and url != "/static/admin/css/base.css"  # hashed name
    assert status == "200", result.stdout
    assert "immutable" in cache_control
