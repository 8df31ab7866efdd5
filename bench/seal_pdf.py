"""
Benchmark: time to seal a contract and the sizes involved (not a test).

    DJANGO_DEBUG=1 .venv/bin/python bench/seal_pdf.py [--pages 10] [--runs 20] [--events 6]

Uses a throwaway self-signed certificate in a temporary folder, so it never
touches var/signing. Prints input/output sizes and cold (first call: font
parsing, key loading) and warm timings for seal_contract and verify_sealed_pdf.
"""

import argparse
import io
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
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--events", type=int, default=6)
    parser.add_argument("--contract", help="seal this PDF instead of a generated one")
    parser.add_argument("--out", help="write one sealed PDF here")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="seal-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanqian.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ["SIGNING_CERT_PATH"] = f"{folder}/cert.pem"
    os.environ["SIGNING_KEY_PATH"] = f"{folder}/key.pem"
    os.environ["SIGNING_KEY_PASSPHRASE"] = ""

    import django
    from pypdf import PdfReader

    django.setup()
    from signing.sealing import make_signing_cert, seal_contract, verify_sealed_pdf
    from signing.sealing.fonts import certificate_font
    from tests.signing.sealing_helpers import certificate_data, contract_pdf, events

    make_signing_cert()
    contract = Path(args.contract).read_bytes() if args.contract else contract_pdf(args.pages)
    data = certificate_data(events=events(args.events))

    started = time.perf_counter()
    sealed = seal_contract(contract_pdf=contract, data=data)
    cold = time.perf_counter() - started

    seal_times, verify_times = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        sealed = seal_contract(contract_pdf=contract, data=data)
        seal_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert verify_sealed_pdf(sealed).ok
        verify_times.append(time.perf_counter() - started)
    if args.out:
        Path(args.out).write_bytes(sealed)

    def ms(values):
        values = sorted(values)
        return (
            f"median {statistics.median(values) * 1000:.0f} ms, "
            f"p90 {values[int(len(values) * 0.9) - 1] * 1000:.0f} ms, max {values[-1] * 1000:.0f} ms"
        )

    font = certificate_font()
    print(f"font: {font.path or font.name} (embedded: {font.embedded})")
    pages = len(PdfReader(io.BytesIO(contract)).pages), len(PdfReader(io.BytesIO(sealed)).pages)
    print(f"contract: {pages[0]} pages, {len(contract):,} bytes; audit events: {args.events}")
    print(f"sealed:   {pages[1]} pages, {len(sealed):,} bytes (+{len(sealed) - len(contract):,})")
    print(f"seal (cold, first call in the process): {cold * 1000:.0f} ms")
    print(f"seal (warm, {args.runs} runs): {ms(seal_times)}")
    print(f"verify (warm, {args.runs} runs): {ms(verify_times)}")


if __name__ == "__main__":
    main()
