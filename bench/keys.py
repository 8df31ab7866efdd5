"""
Field-encryption keys for benchmark runs (``shanqian.fieldcrypt``). Production settings refuse to
start without keys, and the benchmarks run production settings against a throwaway database, so
they bring their own. These keys are public: never use them for data that matters.
"""

FIELD_KEYS = {
    "FIELD_ENCRYPTION_KEYS": "bench:Ytz1GtFEXZIVbq2KxmSD1O2jg63akchFA6p95mLHNXA=",
    "FIELD_BLIND_INDEX_KEY": "3mj0VUmxN0EXMrimxuLjpb1KEOIaFgzx/XNpPP2Ffcc=",
}
