"""
出证包 from the back office (SPEC §10, SPEC §11): the button on a signed application's page, the
list action (inline up to BULK_INLINE_LIMIT rows, a background job above it, each row exactly
once), each download audited, the manifests' hashes recomputed, query counts per job row pinned.
"""

import hashlib
import io
import json
import subprocess
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from shanqian import bulk
from shanqian.models import BulkJob, BulkJobItem, PersonalDataAccess
from signing.evidence.jobs import evidence_job_row
from signing.models import SignEvent
from tests.factories import make_signer
from tests.support.admin import CHANGELIST, action_post, client_for, messages_of

from .helpers import archive


def evidence_url(application) -> str:
    return f"{CHANGELIST}{application.pk}/evidence/"


def members(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive_:
        return {name: archive_.read(name) for name in archive_.namelist()}


def assert_manifest_matches(package: bytes) -> dict[str, bytes]:
    files = members(package)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, name
    return files


def exports(application) -> list[SignEvent]:
    return list(SignEvent.objects.filter(application_id=application.pk, kind=SignEvent.Kind.EVIDENCE).order_by("id"))


def signed_applications(world, count: int) -> list:
    return [archive(make_signer(world, phone=f"1391234{n:04d}").application) for n in range(count)]


@pytest.fixture
def handler_client(world):
    return client_for(world.handler)


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_page_has_the_button_and_the_download_is_audited(pki, world, handler_client, tmp_path):
    (application,) = signed_applications(world, 1)

    page = handler_client.get(f"{CHANGELIST}{application.pk}/change/").content.decode()
    assert page.count(evidence_url(application)) == 2  # the object-tools button and the link by the PDF
    response = handler_client.get(evidence_url(application), HTTP_USER_AGENT="Mozilla/5.0 (HR desk)")

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    assert f'filename="evidence-{application.pk}.zip"' in response["Content-Disposition"]
    files = assert_manifest_matches(response.content)
    assert hashlib.sha256(files["signed.pdf"]).hexdigest() == application.document.sha256
    (event,) = exports(application)
    assert event.actor_staff == world.handler and event.ip == "127.0.0.1"
    assert event.user_agent == "Mozilla/5.0 (HR desk)" and event.data["via"] == "admin"
    assert event.data["zip_sha256"] == hashlib.sha256(response.content).hexdigest()
    # The contract inside is in full (its ID number): the download is also a personal-data access record.
    (access,) = PersonalDataAccess.objects.filter(staff=world.handler, target_id=str(application.pk))
    assert access.action == PersonalDataAccess.Action.EXPORT and access.ip == "127.0.0.1" and "出证包" in access.fields

    # report.pdf: Chinese, every font embedded (pdffonts), one page per part.
    (tmp_path / "report.pdf").write_bytes(files["report.pdf"])
    fonts = subprocess.run(["pdffonts", str(tmp_path / "report.pdf")], capture_output=True, text=True, check=True)
    rows = [line.split() for line in fonts.stdout.splitlines()[2:] if line.strip()]
    assert rows and all("yes" in row[-5:-2] for row in rows), fonts.stdout
    text = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True).stdout
    pages = text.split("\f")
    for part in ("一、概要", "二、身份核验", "三、签署意愿", "四、全部事件", "五、数字证书", "六、可信时间戳"):
        assert sum(part in page for page in pages) == 1, part
    assert "电子劳动合同签署证据报告" in text and "本出证包内的文件及其 SHA-256" in text


def test_no_package_for_an_unsigned_application_or_another_handlers(pki, world, handler_client, other_handler):
    pending = make_signer(world, phone="13900000001").application
    (application,) = signed_applications(world, 1)

    page = handler_client.get(f"{CHANGELIST}{pending.pk}/change/").content.decode()
    assert evidence_url(pending) not in page
    refused = handler_client.get(evidence_url(pending), follow=True)
    assert any("尚未签署" in m for m in messages_of(refused, "error"))
    stranger = client_for(other_handler).get(evidence_url(application))
    assert stranger.status_code == 302 and not exports(application)
    assert handler_client.get(f"{CHANGELIST}abc/evidence/").status_code == 302


def test_a_few_rows_are_answered_at_once_with_one_zip(pki, world, handler_client):
    signed = signed_applications(world, 2)
    pending = make_signer(world, phone="13900000002").application

    response = action_post(handler_client, "evidence_selected", [*(a.pk for a in signed), pending.pk])

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    outer = members(_body(response))
    assert set(outer) == {f"evidence-{a.pk}.zip" for a in signed} | {"未导出.txt"}
    assert f"申请编号 {pending.pk}" in outer["未导出.txt"].decode()
    for application in signed:
        assert_manifest_matches(outer[f"evidence-{application.pk}.zip"])
        assert len(exports(application)) == 1
    assert BulkJob.objects.count() == 0
    (access,) = PersonalDataAccess.objects.filter(staff=world.handler)
    assert access.action == PersonalDataAccess.Action.EXPORT and access.rows == 2


def test_more_rows_than_the_limit_become_a_job_each_row_exported_once(
    pki, world, handler_client, settings, django_capture_on_commit_callbacks
):
    settings.BULK_INLINE_LIMIT = 2
    signed = signed_applications(world, 3)
    pending = make_signer(world, phone="13900000003").application
    ids = [*(a.pk for a in signed), pending.pk]

    with django_capture_on_commit_callbacks(execute=True):
        response = action_post(handler_client, "evidence_selected", ids)

    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == bulk.progress_url(job)
    assert job.state == BulkJob.State.FINISHED and job.result_file.endswith(".zip")
    states = dict(job.items.values_list("object_id", "state"))
    assert states == {**{a.pk: BulkJobItem.State.DONE for a in signed}, pending.pk: BulkJobItem.State.FAILED}
    page = handler_client.get(response["Location"]).content.decode()
    assert f"/admin/shanqian/bulkjob/{job.pk}/result/" in page and "尚未签署" in page

    download = handler_client.get(f"/admin/shanqian/bulkjob/{job.pk}/result/")
    outer = members(_body(download))
    assert set(outer) == {f"evidence-{a.pk}.zip" for a in signed} | {"未导出.txt"}
    for application in signed:
        assert_manifest_matches(outer[f"evidence-{application.pk}.zip"])
        (event,) = exports(application)
        assert event.actor_staff == world.handler and event.ip == "127.0.0.1"
        (access,) = PersonalDataAccess.objects.filter(target_id=str(application.pk))
        assert access.staff == world.handler and access.action == PersonalDataAccess.Action.EXPORT
    # The per-row copies are gone once bundled.
    folder = job.params["folder"]
    assert not any(default_storage.exists(f"{folder}/evidence-{pk}.zip") for pk in ids)


def test_a_runner_killed_mid_row_leaves_the_row_to_be_done_once(pki, world, settings):
    settings.BULK_INLINE_LIMIT = 0
    (application,) = signed_applications(world, 1)
    job = bulk.start(
        action="signing.evidence",
        rows=[(application.pk, "x")],
        params={"client": None, "folder": "evidence-jobs/killed"},
        user=world.handler,
    )

    # A runner that stored the package and died before its commit: its audit event rolled back.
    with pytest.raises(RuntimeError), transaction.atomic():
        evidence_job_row(application.pk, job.params, world.handler)
        raise RuntimeError("killed")
    assert not PersonalDataAccess.objects.exists()
    assert not exports(application) and default_storage.exists(f"evidence-jobs/killed/evidence-{application.pk}.zip")

    bulk.run(job.pk)

    job.refresh_from_db()
    assert job.items.get().state == BulkJobItem.State.DONE and len(exports(application)) == 1
    assert PersonalDataAccess.objects.count() == 1
    outer = members(default_storage.open(job.result_file).read())
    assert list(outer) == [f"evidence-{application.pk}.zip"]
    assert_manifest_matches(outer[f"evidence-{application.pk}.zip"])


@pytest.mark.parametrize("count", [2, 4])
def test_the_job_runs_a_fixed_number_of_queries_per_row(
    pki, world, count, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    signed = signed_applications(world, count)
    with django_capture_on_commit_callbacks(execute=False):
        job = bulk.start(
            action="signing.evidence",
            rows=[(a.pk, str(a.pk)) for a in signed],
            params={"client": None, "folder": "evidence-jobs/count"},
            user=world.handler,
        )

    # Per row (25, measured): take the item; the scoped application; the package (application,
    # document, the verification's roots, CRL and certificates, the trail and the real-name decision,
    # the certificates named by the signatures, the chain and its CRLs, the export's event, the access record); the
    # item's result; savepoints. Plus a constant for the job and its finish.
    with django_assert_max_num_queries(25 * count + 14):
        bulk.run(job.pk)

    assert set(job.items.values_list("state", flat=True)) == {BulkJobItem.State.DONE}
