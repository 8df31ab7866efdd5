"""
The captcha challenge (``CAPTCHA_CHALLENGE_FUNCT``): django-simple-captcha's own
picks its letters with ``random``; ours draws them with ``secrets`` from an alphabet
without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B), so a person can read every one.
"""

import secrets

from django.conf import settings

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def secure_char_challenge() -> tuple[str, str]:
    """(text drawn in the image, expected answer); answers are compared case-insensitively."""
    text = "".join(secrets.choice(ALPHABET) for _ in range(settings.CAPTCHA_LENGTH))
    return text, text.lower()
