"""What the ``file`` SMS backend sent (``SMS_BACKEND=file``, ``SMS_FILE_PATH``)."""

import json
from pathlib import Path

from django.conf import settings


def sent_sms() -> list[dict]:
    """The messages the ``file`` SMS backend wrote."""
    path = Path(settings.SMS_FILE_PATH)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
