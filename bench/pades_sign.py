"""
Benchmark: the PAdES B-LTA signing pipeline of SPEC §10 (not a test).

    .venv/bin/python bench/pades_sign.py [--pages 10] [--runs 10]

What ``POST /api/sign`` will run inside its transaction once the sign flow
moves to the PKI: the worker's event certificate (key, CSR, issuance, stored
row), the certificate page, the merge, two signatures with two RFC 3161
signature timestamps from the development TSA, fresh CRLs, the DSS and the
document timestamp, then the private storage write, ``SignedDocument`` and
the audit rows (``seal_and_archive``). A fresh SQLite database in a temporary
folder, DEBUG off; each run signs a new approved application.
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

    folder = Path(tempfile.mkdtemp(prefix="pades-bench-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "shanqian.settings",
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": "pades-bench-secret-key-0123456789abcdef0123456789",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": f"sqlite:///{folder}/db.sqlite3",
            "MEDIA_ROOT": str(folder / "media"),
            "SIGNING_KEY_PASSPHRASE": "pades-bench-passphrase-0123456789",
            "SIGNING_TSA_URL": "development",
            "FIELD_ENCRYPTION_KEYS": "bench:VnxzVP6rqZiHKb2GpbMCHzaD/SPiASc8FTciyLrt9Ko=",
            "FIELD_BLIND_INDEX_KEY": "kU8lPXkOfrDQJZ2+ILJdDiY7c7kC/GBF4BnsnDiOAVU=",
        }
    )
    os.environ.pop("REDIS_URL", None)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from signing.evidence.trail import application_trail
    from signing.models import SignApplication
    from signing.pki.company import company_certificate_issue
    from signing.pki.setup import pki_init
    from signing.sealing.pipeline import seal_and_archive
    from tests.factories import PlatformFactory, make_signer, make_world
    from tests.signing.pki.helpers import authorization, facts
    from tests.signing.sealing_helpers import contract_pdf

    pki_init(dev_tsa=True)
    PlatformFactory()
    world = make_world()
    company_certificate_issue(company=world.company)
    document = contract_pdf(args.pages)

    times, size = [], 0
    for n in range(args.runs + 1):
        signer = make_signer(world, phone=f"139{n:08d}")
        application = SignApplication.objects.select_related("em", "company", "contract").get(pk=signer.application.pk)
        trail = application_trail(application)
        started = time.perf_counter()
        _document, signed = seal_and_archive(
            application=application, document_pdf=document, facts=facts(trail=trail), authorization=authorization()
        )
        times.append(time.perf_counter() - started)
        size = signed.size

    cold, warm = times[0], sorted(times[1:])
    print(
        f"contract: {args.pages} pages, {len(document):,} bytes; sealed PDF {size:,} bytes "
        f"(budget {2 * len(document) + 200 * 1024:,}); SQLite; DEBUG off; development TSA"
    )
    print(f"PAdES B-LTA pipeline cold (first in process): {cold * 1000:.0f} ms")
    print(
        f"PAdES B-LTA pipeline warm ({len(warm)} runs): median {statistics.median(warm) * 1000:.0f} ms, "
        f"min {warm[0] * 1000:.0f} ms, max {warm[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
