"""
Demo data (``manage.py seed_demo``): wiring level, above every app, so it may build rows of any of
them. No app imports it. Each part of the demo is a function of its own called from ``demo_seed``
(``demo.seed``); add yours the same way.
"""
