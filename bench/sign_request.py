"""
Benchmark: one ``POST /api/sign`` end to end (not a test).

    .venv/bin/python bench/sign_request.py [--pages 10] [--runs 10]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--runs", type=int, default=10)
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

    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from contracts.services import contract_save_file
    from tests.factories import PlatformFactory, logged_in_client, make_signer, make_world, sign_code, signature_url
    from tests.signing.sealing_helpers import contract_pdf

    PlatformFactory()
    world = make_world()
    contract_save_file(contract=world.contract, file=ContentFile(contract_pdf(args.pages), name="contract.pdf"))

    times = []
    size = 0
    for n in range(args.runs + 1):
        signer = make_signer(world, phone=f"139{n:08d}")
        assert signer.client.get("/api/sign/contract").status_code == 200
        body = {"sms_code": sign_code(signer.employee.phone), "signature": signature_url(signer.user)}
        client = logged_in_client(signer.user)
        started = time.perf_counter()
        response = client.post("/api/sign", body, format="json")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content
        times.append(elapsed)
        from signing.models import SignedDocument

        size = SignedDocument.objects.get(application=signer.application).size
    document = len(contract_pdf(args.pages))

    cold, warm = times[0], sorted(times[1:])
    print(
        f"contract: {args.pages} pages, {document:,} bytes; sealed PDF {size:,} bytes "
        f"(budget 2 × document + 200 KB = {2 * document + 200 * 1024:,}); SQLite; DEBUG off"
    )
    print(f"POST /api/sign cold (first in process): {cold * 1000:.0f} ms")
    print(
        f"POST /api/sign warm ({len(warm)} runs): median {statistics.median(warm) * 1000:.0f} ms, "
        f"min {warm[0] * 1000:.0f} ms, max {warm[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
