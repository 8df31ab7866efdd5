"""
Benchmark: encrypting and decrypting one ID number, and its blind index (not a test).

    .venv/bin/python bench/field_encryption.py            # print the table
    .venv/bin/python bench/field_encryption.py --write    # and put it in docs/benchmarks.md

Times ``shanqian.fieldcrypt`` as the model field calls it (``encrypt``/``decrypt`` of an 18-character
value under AES-256-GCM, ``blind_index`` = HMAC-SHA256 under an HKDF-derived key) with random keys,
single-threaded: each call timed on its own (``perf_counter_ns``, ``--number`` calls per operation after
a warm-up), median and p99 in µs, beside the mean of a tight ``timeit`` loop; the machine's load
average is written with the figures (the machine is shared). A 5 MB file through
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


def _distribution_us(stmt, number: int) -> dict:
    """Median and p99 of ``number`` single timed calls (after ``number // 10`` untimed warm-up calls)."""
    for _ in range(number // 10):
        stmt()
    clock, samples = time.perf_counter_ns, []
    for _ in range(number):
        started = clock()
        stmt()
        samples.append(clock() - started)
    samples.sort()
    return {
        "median": samples[len(samples) // 2] / 1000,
        "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))] / 1000,
        "mean_loop": _per_call_us(stmt, number),
    }


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
    load_before = os.getloadavg()
    timed = {
        "encrypt": _distribution_us(lambda: fieldcrypt.encrypt(VALUE, purpose="id_number", keyring=ring), number),
        "decrypt": _distribution_us(lambda: fieldcrypt.decrypt(envelope, purpose="id_number", keyring=ring), number),
        "blind_index": _distribution_us(
            lambda: fieldcrypt.blind_index(VALUE, purpose="id_number", keyring=ring), number
        ),
    }
    return {
        **timed,
        "load": (load_before, os.getloadavg()),
        "file_encrypt_ms": file_encrypt_ms,
        "file_decrypt_ms": file_decrypt_ms,
        "envelope_chars": len(envelope),
        "number": number,
        "versions": f"Python {platform.python_version()}, cryptography {cryptography.__version__}",
    }


def section(results: dict | None = None) -> str:
    r = results or measure()

    def verdict(t):
        return "met" if t["median"] <= TARGET_US and t["p99"] <= TARGET_US else "MISSED"

    def row(label, t, target=True):
        mark = verdict(t) if target else "—"
        return f"| {label} | {t['median']:.1f} | {t['p99']:.1f} | {t['mean_loop']:.1f} | {mark} |"

    (before, after) = r["load"]
    load = f"{before[0]:.2f} / {before[1]:.2f} before, {after[0]:.2f} / {after[1]:.2f} after (1- / 5-minute)"
    return f"""{BEGIN}
## Field encryption (ID numbers at rest)

`python bench/field_encryption.py --write` on {time.strftime("%Y-%m-%d %H:%M %Z")}; {r["versions"]}, one thread,
{r["number"]:,} single timed calls per operation (`perf_counter_ns` around each, after a warm-up), on the
shared 2-core machine with load average {load}. The value is an 18-character ID number; its envelope
in the column is {r["envelope_chars"]} characters. Target: ≤ {TARGET_US:.0f} µs per value (median and p99).

| operation | median µs | p99 µs | mean µs (tight loop) | target |
|---|---:|---:|---:|---|
{row("`encrypt` (AES-256-GCM, fresh nonce, base64 envelope)", r["encrypt"])}
{row("`decrypt`", r["decrypt"])}
{row("`blind_index` (HMAC-SHA256, derived key)", r["blind_index"], target=False)}

Median and p99 are of single calls; the tight loop's mean is wall time over {r["number"]:,} calls in a
row and so also counts the time the shared machine gave other processes while the loop ran (with the
load above, most of it) — an upper bound, not the cost of one call.

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
