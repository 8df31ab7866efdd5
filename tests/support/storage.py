"""What the tests find in storage."""

from pathlib import Path

from django.conf import settings


def sealed_files() -> list[Path]:
    """Every file under the storage's ``signed/`` folder."""
    root = Path(settings.MEDIA_ROOT) / "signed"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
