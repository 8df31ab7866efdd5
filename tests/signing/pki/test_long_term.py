"""
Long-term validation (PAdES B-LTA, ETSI EN 319 102-1 §5.6.3): the signed file
judged long after signing — past the event certificate's minutes, the CRLs'
days, a year on — trusting only /pki/root.crt. The validator does what one
would do then: it downloads the current CRL of the time-stamping authority's
CA from the distribution point (/pki/root.crl) to judge the outermost document
timestamp now; everything older is judged at the time that timestamp proves,
with what the DSS holds.
"""

import datetime
import io

import pytest
import time_machine
from asn1crypto import crl as asn1_crl
from django.test import Client
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed

from signing.ledger.proof import ProofFacts, render_and_sign
from signing.sealing.pades import EMPLOYER_FIELD, WORKER_FIELD
from signing.sealing.verification import verify_document

from .helpers import pyhanko_lta, sign

pytestmark = pytest.mark.django_db


def fetched(path: str) -> bytes:
    response = Client().get(path)
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("days", [31, 365])
def test_the_file_validates_as_b_lta_long_after_signing_against_the_root_alone(pki, world, signer, days):
    signed = sign(signer.application)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=days), tick=False):
        root = fetched("/pki/root.crt")
        current_root_crl = asn1_crl.CertificateList.load(fetched("/pki/root.crl"))
        results = pyhanko_lta(signed.pdf, root=root, known_crls=[current_root_crl])
        report = verify_document(signed.pdf)

    assert set(results) == {WORKER_FIELD, EMPLOYER_FIELD}
    for name, result in results.items():
        assert result.ades_subindic == AdESPassed.OK, (name, result.ades_subindic, result.failure_msg)
        # The proof of existence is the document timestamp of the signing day.
        assert result.oldest_evidence_record_timestamp is not None
        assert result.oldest_evidence_record_timestamp < signed.outcome.timestamps[-1].time + datetime.timedelta(
            seconds=1
        )
    assert report.ok and report.level == "B-LTA", report.as_dict()


def test_without_a_current_crl_a_year_later_the_outermost_timestamp_cannot_be_judged(pki, world, signer):
    """The negative control: offline with only the DSS, the document timestamp's TSA has no fresh status."""
    signed = sign(signer.application)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=365), tick=False):
        results = pyhanko_lta(signed.pdf, root=fetched("/pki/root.crt"))

    assert all(result.ades_subindic != AdESPassed.OK for result in results.values())


def proof_facts(signer) -> ProofFacts:
    today = timezone.localdate()
    return ProofFacts(
        contract_id=1,
        application_id=signer.application.pk,
        real_name=signer.employee.real_name,
        id_number=signer.employee.id_number,
        company_name=signer.application.company.company_name,
        credit_code="91330100MA27XYZ12B",
        work_pos="前台",
        term="固定期限（三年）",
        service_start=today - datetime.timedelta(days=400),
        ended_on=today,
        dissolved=True,
        ground="协商一致解除（劳动合同法第三十六条）",
        issued_on=today,
    )


@pytest.mark.parametrize("days", [31, 365])
def test_the_proof_of_ending_validates_long_after_like_a_contract(pki, world, signer, days):
    """The employer-only proof (art. 50) carries the same long-term material: CRLs, the OCSP response, a DTS."""
    pdf = render_and_sign(facts=proof_facts(signer), company=world.company)
    dss = PdfFileReader(io.BytesIO(pdf)).root["/DSS"]
    assert len(dss["/OCSPs"]) == 1 and len(dss["/CRLs"]) >= 2

    with time_machine.travel(timezone.now() + datetime.timedelta(days=days), tick=False):
        root = fetched("/pki/root.crt")
        current_root_crl = asn1_crl.CertificateList.load(fetched("/pki/root.crl"))
        results = pyhanko_lta(pdf, root=root, known_crls=[current_root_crl])
        report = verify_document(pdf)

    assert set(results) == {EMPLOYER_FIELD}
    result = results[EMPLOYER_FIELD]
    assert result.ades_subindic == AdESPassed.OK, (result.ades_subindic, result.failure_msg)
    assert result.oldest_evidence_record_timestamp is not None
    assert report.ok and report.document_kind == "proof" and report.level == "B-LTA", report.as_dict()
