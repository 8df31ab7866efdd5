"""
The evidence of a signed contract (SPEC §10): its audit trail, the evidence
report (``report.pdf``) and the evidence package (出证包).

* ``trail`` — the application's audit trail as rows, from its ``SignEvent``
  rows plus the real-name decision; shared by the certificate page and the report;
* ``report`` — the evidence report, a PDF a labour-arbitration clerk can read;
* ``package`` — the zip (report, contracts, audit.json, certs/, manifest.json)
  and the audited export that the back office and ``manage.py evidence_export`` call.
"""
