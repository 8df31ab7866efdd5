"""
The person's rights over their personal information (SPEC §13, PIPL art. 45 and 47).

* ``export`` — ``GET /api/me/export``: everything held about the logged-in person, as JSON, in a
  fixed number of queries (``personal_data_export``).
* ``models`` — ``DeletionRequest``: a request to delete one's data, its review and its outcome.
* ``services`` — ``deletion_request_create`` (``POST /api/me/deletion``), ``deletion_execute`` and
  ``deletion_refuse`` (the back office's review actions): deleting what may be deleted and keeping
  what the law requires (a contract and its evidence, ``CONTRACT_RETENTION_YEARS``), the person
  told of the outcome through the notification outbox.
* ``retention`` / ``tasks`` — the daily purge (``purge_expired``): applicants past
  ``APPLICANT_RETENTION_DAYS`` without a contract (their application rows kept de-identified), and
  what a deletion request kept once its ``retained_until`` has come.
* ``views`` / ``admin`` — the API and the back office (删除申请).

It lives in ``signing`` because a person's data spans both apps: the resume, uploads, consents and
real-name checks (``employees``) and the applications, events, documents and contracts here.
"""
