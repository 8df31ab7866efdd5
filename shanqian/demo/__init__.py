"""
Demo data (``manage.py seed_demo``): wiring, not core. It lives in the project package but sits
above every app, so it may build rows of any of them (the one ``ignore_imports`` of the layers
contract in pyproject.toml); no app and no core module imports it (the ``demo-is-wiring`` contract).
Each part of the demo is a function of its own called from ``demo_seed`` (``shanqian.demo.seed``);
add yours the same way.
"""
