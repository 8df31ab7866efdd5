"""manage.py verify_document and the back office's 核验签署文件 (page and JSON) on PKI-signed files."""

import json
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import AdminUserFactory

from .helpers import issue_company_certificate, sign


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def signed(pki, world, signer):
    issue_company_certificate(world.company)
    return sign(signer.application)


def test_the_command_reports_every_signature(signed, tmp_path, capsys):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed.pdf)

    call_command("verify_document", str(path))

    out = capsys.readouterr().out
    assert "验证通过" in out and "PAdES B-LTA" in out
    assert "劳动者签名（WorkerSignature）：有效" in out and "用人单位盖章（EmployerSignature）：有效" in out
    assert "时间戳：" in out and "闪签云时间戳服务（开发）" in out and "第 2/4 个修订" in out


def test_the_command_json_and_exit_code(signed, tmp_path, capsys):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed.pdf)
    call_command("verify_document", str(path), "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["level"] == "B-LTA" and len(report["signatures"]) == 3

    path.write_bytes(signed.pdf + b"\n% appended\n")
    with pytest.raises(SystemExit) as exited:
        call_command("verify_document", str(path), "--json")
    assert exited.value.code == 1


def test_the_admin_page_and_its_json(signed):
    client = Client()
    client.force_login(AdminUserFactory(is_superuser=True))
    url = reverse("admin:signing_verify_document")

    page = client.post(url, {"file": SimpleUploadedFile("s.pdf", signed.pdf, "application/pdf")})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="verify-signatures"' in html and "劳动者签名" in html and "B-LTA" in html

    answer = client.post(url + "?format=json", {"file": SimpleUploadedFile("s.pdf", signed.pdf, "application/pdf")})
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/json")
    data = answer.json()
    assert data["ok"] and data["level"] == "B-LTA"
    assert [s["role"] for s in data["signatures"]] == ["worker", "employer", "document_timestamp"]
    assert data["signatures"][0]["timestamp"]["authority"] == "闪签云时间戳服务（开发）"


def test_pdftoppm_renders_the_certificate_page(signed, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed.pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "5", "-l", "5", str(path), str(tmp_path / "p")], check=True)
    assert list(tmp_path.glob("p-*.png"))
