"""
Benchmark: one ``POST /api/sign`` end to end (not a test).

    .venv/bin/python bench/sign_request.py [--pages 10] [--runs 10] [--eager] [--profile FILE] [--keep DIR]

Everything lives in a temporary folder: a fresh SQLite database (migrated),
media, the SMS file and a throwaway PKI (``pki_init``, a company certificate,
the development TSA); DEBUG is off as in production. Each run prepares a new employee with an approved application
and a read contract, then times only the request — through the whole Django
stack: middleware, token auth, throttle, checks, SMS code, row lock, the
event certificate, the certificate page, two PAdES signatures with their
RFC 3161 timestamps, the DSS, the document timestamp (B-LTA), storage write,
the audit rows, commit, response.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def contract_template(pages: int) -> bytes:
    """A labour contract of ``pages`` pages of Chinese body text in the embedded CJK font (as templates must be)."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from signing.sealing.fonts import certificate_font

    font = certificate_font().name
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, initialFontName=font)
    for page in range(1, pages + 1):
        pdf.setFont(font, 16)
        pdf.drawString(72, 780, f"劳动合同 第 {page} 页")
        pdf.setFont(font, 10)
        for line in range(40):
            pdf.drawString(
                72, 750 - line * 16, f"第 {page}.{line + 1} 条 甲乙双方经平等协商，自愿签订本合同，共同遵守。"
            )
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--profile", metavar="FILE", help="cProfile the warm requests into FILE (pstats)")
    parser.add_argument("--keep", metavar="DIR", help="write the last sealed PDF and /pki/root.crt into DIR")
    parser.add_argument(
        "--eager",
        action="store_true",
        help="run the notices' tasks inside the request (the embedded default without a broker); by default "
        "they are queued to an in-memory broker, as a deployment with a broker and workers does",
    )
    args = parser.parse_args()

    from bench.keys import FIELD_KEYS

    folder = Path(tempfile.mkdtemp(prefix="sign-bench-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "shanqian.settings",
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": "sign-bench-secret-key-0123456789abcdef0123456789",
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"sqlite:///{folder}/db.sqlite3",
            "MEDIA_ROOT": str(folder / "media"),
            "SMS_BACKEND": "file",
            "SMS_FILE_PATH": str(folder / "sms.jsonl"),
            "SIGNING_KEY_PASSPHRASE": "sign-bench-passphrase-0123456789",
            "SIGNING_TSA_URL": "development",
            "SIGNING_PKI_BASE_URL": "http://127.0.0.1:8000",
            "THROTTLE_SIGN": "100000/hour",
            **FIELD_KEYS,
        }
    )
    os.environ.pop("REDIS_URL", None)
    if not args.eager:
        os.environ["CELERY_BROKER_URL"] = "memory://"

    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from contracts.services import contract_save_file
    from tests.factories import PlatformFactory, logged_in_client, make_signer, make_world, sign_code, signature_url

    PlatformFactory()
    world = make_world()
    template = contract_template(args.pages)
    # The placements of the world's template are kept (detect=False): the same values drawn in the same boxes.
    contract_save_file(contract=world.contract, file=ContentFile(template, name="contract.pdf"), detect=False)

    import cProfile

    profiler = cProfile.Profile() if args.profile else None
    times = []
    size = 0
    for n in range(args.runs + 1):
        signer = make_signer(world, phone=f"139{n:08d}")
        assert signer.client.get("/api/sign/contract").status_code == 200
        body = {"sms_code": sign_code(signer.employee.phone), "signature": signature_url(signer.user)}
        client = logged_in_client(signer.user)
        if profiler is not None and n:
            profiler.enable()
        started = time.perf_counter()
        response = client.post("/api/sign", body, format="json")
        elapsed = time.perf_counter() - started
        if profiler is not None and n:
            profiler.disable()
        assert response.status_code == 200, response.content
        times.append(elapsed)
        from signing.models import SignedDocument

        sealed = SignedDocument.objects.get(application=signer.application)
        size = sealed.size
    # The personalised contract generated at approval (what is signed, SPEC §9).
    signer.application.refresh_from_db()
    document = signer.application.contract_document.size

    if profiler is not None:
        profiler.dump_stats(args.profile)
    if args.keep:
        keep = Path(args.keep)
        keep.mkdir(parents=True, exist_ok=True)
        with sealed.file.open("rb") as handle:
            (keep / "signed.pdf").write_bytes(handle.read())
        (keep / "root.crt").write_bytes(client.get("/pki/root.crt").content)
    cold, warm = times[0], sorted(times[1:])
    p90 = warm[min(len(warm) - 1, max(0, round(0.9 * len(warm)) - 1))]
    print(
        f"template: {args.pages} pages, {len(template):,} bytes; personalised contract {document:,} bytes; "
        f"sealed PDF {size:,} bytes; tasks {'eager' if args.eager else 'queued (memory broker)'} "
        f"(budget 2 × document + 200 KB = {2 * document + 200 * 1024:,}); SQLite; DEBUG off"
    )
    print(f"POST /api/sign cold (first in process): {cold * 1000:.0f} ms")
    print(
        f"POST /api/sign warm ({len(warm)} runs): median {statistics.median(warm) * 1000:.0f} ms, "
        f"p90 {p90 * 1000:.0f} ms, min {warm[0] * 1000:.0f} ms, max {warm[-1] * 1000:.0f} ms"
    )
    print(f"sealed / contract: {size / document:.2f}×; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
