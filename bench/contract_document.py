"""
Benchmark: the personalised contract of SPEC §9 (not a test).

    .venv/bin/python bench/contract_document.py [--pages 10] [--runs 20] [--approvals 100]

1. Generating the personalised contract (``signing.documents.services.render_contract``: the
   template read from storage, 15 placements filled with the application's values, fonts embedded
   as subsets, the form flattened) for a ``--pages`` template — cold, then warm median.
2. Approving ``--approvals`` applications one after another in-process through
   ``application_approve`` (the terms validated, the employer checked, the contract generated and
   stored, the audit event written).

A fresh SQLite database in a temporary folder, DEBUG off.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# 15 placements spread over the pages: (key, page offset from the first or -1 for the last, x, y, w, h).
PLACEMENTS = [
    ("company_name", 0, 150, 200, 300, 18),
    ("credit_code", 0, 150, 224, 200, 18),
    ("company_address", 0, 150, 248, 300, 18),
    ("legal_representative", 0, 150, 272, 160, 18),
    ("real_name", 0, 150, 320, 140, 18),
    ("id_number", 0, 150, 344, 220, 18),
    ("acct_address", 0, 150, 368, 200, 30),
    ("work_pos", 1, 150, 200, 200, 18),
    ("work_location", 1, 150, 224, 300, 18),
    ("entry_date", 1, 150, 248, 160, 18),
    ("end_date", 1, 150, 272, 160, 18),
    ("salary", 1, 150, 296, 140, 18),
    ("salary_upper", 1, 150, 320, 260, 18),
    ("working_hours", -1, 150, 200, 160, 18),
    ("employee_signature", -1, 150, 600, 130, 44),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--approvals", type=int, default=100)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="document-bench-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "shanqian.settings",
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": "document-bench-secret-key-0123456789abcdef012345",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": f"sqlite:///{folder}/db.sqlite3",
            "MEDIA_ROOT": str(folder / "media"),
            "SIGNING_KEY_PASSPHRASE": "document-bench-passphrase-0123456789",
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

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from contracts.models import Placement
    from signing.documents.services import render_contract
    from signing.models import SignApplication
    from signing.services import applications as services
    from tests.factories import ContractFactory, PlatformFactory, make_application, make_world, pdf_bytes

    PlatformFactory()
    world = make_world()
    template = pdf_bytes("劳动合同（基准测试）", pages=args.pages)
    contract = ContractFactory(
        company=world.company, placed=False, file=ContentFile(template, name="bench.pdf"), sign_year=3
    )
    Placement.objects.bulk_create(
        Placement(
            contract=contract,
            key=key,
            page=(args.pages if offset == -1 else 1 + offset),
            x=x,
            y=y,
            width=w,
            height=h,
        )
        for key, offset, x, y, w, h in PLACEMENTS
    )
    contract.placements.create(key="company_seal", page=args.pages, x=350, y=560, width=110, height=110)

    applications = [
        make_application(handler=world.handler, company=world.company, name=f"测试{n:03d}")
        for n in range(args.approvals + 1)
    ]
    entry = timezone.localdate() + datetime.timedelta(days=7)

    # 1. generation alone, on an approved application
    services.application_approve(
        application=applications[0], staff=world.handler, contract=contract, entry_date=entry, salary="8800.5"
    )
    probe = SignApplication.objects.select_related("company", "contract", "em").get(pk=applications[0].pk)
    times = []
    for _ in range(args.runs + 1):
        started = time.perf_counter()
        pdf, _inputs = render_contract(probe)
        times.append(time.perf_counter() - started)
    cold, warm = times[0], sorted(times[1:])
    print(
        f"template: {args.pages} pages, {len(template):,} bytes, {len(PLACEMENTS) + 1} placements "
        f"({len(PLACEMENTS)} values at approval); personalised contract {len(pdf):,} bytes; SQLite; DEBUG off"
    )
    print(f"generation cold (first in process): {cold * 1000:.1f} ms")
    print(
        f"generation warm ({len(warm)} runs): median {statistics.median(warm) * 1000:.1f} ms, "
        f"min {warm[0] * 1000:.1f} ms, max {warm[-1] * 1000:.1f} ms"
    )

    # 2. approvals one after another
    each = []
    started = time.perf_counter()
    for application in applications[1:]:
        one = time.perf_counter()
        services.application_approve(
            application=application, staff=world.handler, contract=contract, entry_date=entry, salary="8800.5"
        )
        each.append(time.perf_counter() - one)
    total = time.perf_counter() - started
    each.sort()
    print(
        f"{len(each)} approvals one after another: {total:.2f} s in total, "
        f"median {statistics.median(each) * 1000:.1f} ms, p95 {each[int(len(each) * 0.95) - 1] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
