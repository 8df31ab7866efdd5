"""Characters no free text may carry: NUL and other control characters, and U+FFFD (what invalid UTF-8 decodes to)."""

import re

FORBIDDEN_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
