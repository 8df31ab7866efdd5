"""Settings a production-mode (``DJANGO_DEBUG=0``) subprocess needs beyond its own test's.

The signing system checks refuse to start production without a trusted time source and a passphrase
for the certificate keys (``signing.E001``, ``signing.E003``). The multi-process tests never sign, so
the TSA address is loopback's discard port: anything that did try to sign would fail loudly (503).
"""

SIGNING_ENV = {
    "SIGNING_TSA_URL": "http://127.0.0.1:9/tsa",
    "SIGNING_KEY_PASSPHRASE": "multi-process-tests-passphrase-0123456789",
}
