"""
The signing app's writes with business rules, one module per job:

* ``applications`` — the state machine (``MOVES``, ``_transition``, the only code that changes a
  ``SignApplication``'s status) and every service that opens or moves an application;
* ``contract_signing`` — the employee reads and signs the contract (SPEC §4.15–4.19).
"""
