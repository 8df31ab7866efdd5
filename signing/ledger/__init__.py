"""
The contract ledger (劳动合同台账, SPEC §12): the employment contract record signing creates, the
daily reminders, renewal (续签), ending (终止/解除) with its proof, retention, and the worker's
``GET /api/contracts``.

* ``models`` — ``EmploymentContract``, ``ContractReminder``;
* ``services`` — every write (creating the record at signing, renewal, ending, the daily runs);
* ``selectors`` — the reads (the worker's contracts, the back office's scope, the start page's
  figures, the retention report);
* ``admin`` — the ledger (合同台账) and its export; ``tasks`` — the Celery beat tasks.
"""
