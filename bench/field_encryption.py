"""
Benchmark: encrypting and decrypting one ID number, and its blind index (not a test).

    .venv/bin/python bench/field_encryption.py            # print the table
    .venv/bin/python bench/field_encryption.py --write    # and put it in docs/benchmarks.md

Times ``shanqian.fieldcrypt`` as the model field calls it (``encrypt``/``decrypt`` of an 18-character
value under AES-256-GCM, ``blind_index`` = HMAC-SHA256 under an HKDF-derived key) with random keys,
single-threaded: median of 7 rounds of ``--number`` calls each, in µs per call. A 5 MB file through
``encrypt_bytes``/``decrypt_bytes`` is timed too (an ID-card photo at the upload limit). Target: ≤ 50 µs
per value. ``bench/run.py`` embeds the same section when it regenerates docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import statistics
import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- fieldcrypt:begin -->", "<!-- fieldcrypt:end -->"
TARGET_US = 50.0
VALUE = "110105199001010010"


def _per_call_us(stmt, number: int) -> float:
    rounds = timeit.repeat(stmt, number=number, repeat=7)
    return statistics.median(rounds) / number * 1e6


def measure(number: int = 20_000) -> dict:
    import cryptography

    from shanqian import fieldcrypt

    ring = fieldcrypt.parse_keyring(
        f"k1:{base64.b64encode(os.urandom(32)).decode()}", base64.b64encode(os.urandom(32)).decode()
    )
    envelope = fieldcrypt.encrypt(VALUE, purpose="id_number", keyring=ring)
    photo = os.urandom(5 * 1024 * 1024)
    sealed = fieldcrypt.encrypt_bytes(photo, purpose="file", keyring=ring)
    started = time.perf_counter()
    fieldcrypt.encrypt_bytes(photo, purpose="file", keyring=ring)
    file_encrypt_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    fieldcrypt.decrypt_bytes(sealed, purpose="file", keyring=ring)
    file_decrypt_ms = (time.perf_counter() - started) * 1000
    return {
        "encrypt": _per_call_us(lambda: fieldcrypt.encrypt(VALUE, purpose="id_number", keyring=ring), number),
        "decrypt": _per_call_us(lambda: fieldcrypt.decrypt(envelope, purpose="id_number", keyring=ring), number),
        "blind_index": _per_call_us(lambda: fieldcrypt.blind_index(VALUE, purpose="id_number", keyring=ring), number),
        "file_encrypt_ms": file_encrypt_ms,
        "file_decrypt_ms": file_decrypt_ms,
        "envelope_chars": len(envelope),
        "number": number,
        "versions": f"Python {platform.python_version()}, cryptography {cryptography.__version__}",
    }


def section(results: dict | None = None) -> str:
    r = results or measure()

    def verdict(us):
        return "met" if us <= TARGET_US else "MISSED"

    return f"""{BEGIN}
## Field encryption (ID numbers at rest)

`python bench/field_encryption.py --write` on {time.strftime("%Y-%m-%d %H:%M %Z")}; {r["versions"]}, one thread,
median of 7 rounds of {r["number"]:,} calls. The value is an 18-character ID number; its envelope in the
column is {r["envelope_chars"]} characters. Target: ≤ {TARGET_US:.0f} µs per value.

| operation | µs per call | target |
|---|---:|---|
| `encrypt` (AES-256-GCM, fresh nonce, base64 envelope) | {r["encrypt"]:.2f} | {verdict(r["encrypt"])} |
| `decrypt` | {r["decrypt"]:.2f} | {verdict(r["decrypt"])} |
| `blind_index` (HMAC-SHA256, derived key) | {r["blind_index"]:.2f} | — |

A 5 MB file (an ID-card photo at the upload limit): `encrypt_bytes` {r["file_encrypt_ms"]:.1f} ms,
`decrypt_bytes` {r["file_decrypt_ms"]:.1f} ms.
{END}"""


def write(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        doc = head + text + rest.split(END, 1)[1]
    else:
        marker = "\n## Command"
        doc = doc.replace(marker, "\n" + text + "\n" + marker, 1) if marker in doc else doc + "\n" + text + "\n"
    DOC.write_text(doc, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--number", type=int, default=20_000)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    text = section(measure(args.number))
    print(text)
    if args.write:
        write(text)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
