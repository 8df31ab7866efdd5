"""
The personalised contract document (SPEC §9): the template's pages with an application's values
drawn in their placements (``render``, ``values``), stored at approval and regenerated when its
inputs change (``services``), and the marks drawn at signing — signature, sign date, company seal,
骑缝章 — before the sealing pipeline appends the certificate page and signs (``services.signing_document``).
"""
