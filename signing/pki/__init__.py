"""
The project's PKI (SPEC §10): a root CA, an issuing CA, company certificates,
per-signing event certificates, the development TSA, CRLs, and the
``SIGNING_CA_BACKEND`` seam for a licensed CA.

* ``setup`` — ``pki_init``; ``hierarchy`` — the current CA certificates;
* ``profiles`` — what each certificate and CRL says (pure ``cryptography``);
* ``keystore`` — keys encrypted at rest under ``SIGNING_KEY_PASSPHRASE``;
* ``backends`` — the CA backend contract and the ``local`` backend;
* ``credentials`` — the worker's event credential and the company's credential;
* ``crl`` — current CRLs and revocation; ``tsa`` — the time sources;
* ``views``/``urls`` — ``/pki/root.crt``, ``/pki/issuing.crt``, ``/pki/issuing.crl``, ``/pki/root.crl``;
* ``checks`` — the system checks (passphrase, TSA, hierarchy).

Import the submodules directly (``from signing.pki.credentials import …``).
"""
