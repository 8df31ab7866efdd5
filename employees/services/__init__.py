"""
The employees app's writes with business rules, one module per job:

* ``identity`` — WeChat login, captcha, SMS codes, uploads, the identity purge;
* ``resume`` — the resume's rows: checks against the database and the writes;
* ``realname`` — submitting the resume's identity for real-name verification, and the decision.
"""
