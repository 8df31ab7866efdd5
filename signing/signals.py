"""
``application_status_changed`` is sent after the transaction of a status move
commits (never for a rolled-back one), with ``application_id``,
``from_status`` (None for a new application) and ``to_status``. Receivers are
for side effects (notifications); a failing receiver is logged, not raised.
"""

from django.dispatch import Signal

application_status_changed = Signal()
