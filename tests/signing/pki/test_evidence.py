"""The evidence package (出证包) and its report: contents, hashes, the audit of each export, the trail."""

import hashlib
import io
import json
import subprocess
import zipfile

import pytest
from django.core.management import call_command

from signing.evidence.package import EvidenceUnavailable, evidence_package, evidence_packages
from signing.models import SignApplication, SignEvent

from .helpers import archive, issue_company_certificate


@pytest.fixture
def archived(pki, world, signer):
    issue_company_certificate(world.company)
    return archive(signer.application)


def _open(package) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_package_holds_every_file_and_the_manifest_hashes_match(archived, world):
    package = evidence_package(archived)

    files = _open(package)
    assert {"report.pdf", "contract.pdf", "signed.pdf", "audit.json", "manifest.json"} <= set(files)
    assert {"certs/event.crt", "certs/company.crt", "certs/issuing.crt", "certs/root.crt"} <= set(files)
    assert {"certs/issuing.crl", "certs/root.crl"} <= set(files)
    assert any(name.startswith("certs/tsa-") for name in files)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest
    assert hashlib.sha256(files["signed.pdf"]).hexdigest() == archived.document.sha256
    # The contract as the worker read it: the personalised contract generated at approval (SPEC §9).
    personalised = SignApplication.objects.get(pk=archived.pk).contract_document
    assert personalised.name
    with personalised.open("rb") as handle:
        assert files["contract.pdf"] == handle.read()


def test_audit_json_has_the_whole_trail_of_spec_10(archived):
    files = _open(evidence_package(archived))

    kinds = [e["kind"] for e in json.loads(files["audit.json"])["events"]]
    for kind in (
        "transition",
        "realname",
        "intent_sent",
        "intent_ok",
        "signature",
        "event_cert",
        "seal_applied",
        "timestamp",
        "sealed",
    ):
        assert kind in kinds, kind
    assert kinds.count("timestamp") == 3


def test_the_report_is_chinese_with_embedded_fonts_and_a_page_per_part(archived, tmp_path):
    files = _open(evidence_package(archived))
    path = tmp_path / "report.pdf"
    path.write_bytes(files["report.pdf"])

    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all("yes" in row[-5:-2] for row in rows), fonts  # the emb column
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    page_count = int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:")))
    assert page_count >= 7
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
    parts = [
        "一、概要",
        "二、身份核验",
        "三、签署意愿",
        "四、全部事件",
        "五、数字证书",
        "六、可信时间戳",
        "七、如何核验",
    ]
    pages_text = text.split("\f")
    starts = [next(i for i, page in enumerate(pages_text) if part in page) for part in parts]
    assert starts == sorted(starts) and len(set(starts)) == len(parts)  # each part on a page of its own
    assert "PAdES B-LTA" in text and "实名认证" in text and "Mozilla/5.0" in text


def test_each_export_is_audited(archived, world):
    before = SignEvent.objects.filter(application_id=archived.pk, kind=SignEvent.Kind.EVIDENCE).count()

    first = evidence_package(archived, actor=world.handler, via="admin")
    second = evidence_package(archived, via="manage.py evidence_export")

    events = list(SignEvent.objects.filter(application_id=archived.pk, kind=SignEvent.Kind.EVIDENCE).order_by("id"))
    assert len(events) == before + 2
    assert events[-2].actor_staff == world.handler
    assert events[-2].data["zip_sha256"] == first.sha256
    # The second package's trail shows the first export.
    trail = json.loads(_open(second)["audit.json"])["events"]
    assert any(e["kind"] == "evidence" for e in trail)


def test_no_package_for_an_unsigned_application(pki, world, signer):
    with pytest.raises(EvidenceUnavailable):
        evidence_package(signer.application)
    result = evidence_packages([signer.application])
    assert result.packages == [] and result.refused[0][0] == signer.application.pk


def test_evidence_export_command(archived, world, tmp_path, capsys):
    call_command("evidence_export", "--application", str(archived.pk), "--out", str(tmp_path))
    assert (tmp_path / f"evidence-{archived.pk}.zip").is_file()

    call_command(
        "evidence_export",
        "--company",
        world.company.company_name,
        "--since",
        "2000-01-01",
        "--out",
        str(tmp_path / "c"),
    )
    assert (tmp_path / "c" / f"evidence-{archived.pk}.zip").is_file()
    assert "已导出 1 个出证包" in capsys.readouterr().out


def test_evidence_export_refuses_bad_arguments(pki, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("evidence_export", "--company", "1", "--since", "yesterday", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="没有申请编号"):
        call_command("evidence_export", "--application", "999999", "--out", str(tmp_path))
