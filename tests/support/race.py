"""
Run callables at the same moment from several threads, each on its own
database connection (closed when the thread ends). For row-lock tests on
PostgreSQL and MariaDB; on SQLite ``select_for_update`` is a no-op.
"""

import threading

import pytest
from django.db import connection, connections

SKIP_ON_SQLITE = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="select_for_update is a no-op on SQLite; row-lock races run on PostgreSQL and MariaDB",
)


def race(*functions, timeout: float = 30.0) -> list[tuple[str, object]]:
    """Start every function behind one barrier; return ``("ok", result)`` or ``("error", exception)`` per function."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait(timeout=timeout)
            results[index] = ("ok", function())
        except Exception as exc:  # the outcome under test
            results[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, f), daemon=True) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung (lock never released?)"
    return results


def slow_down(monkeypatch, target: str, seconds: float = 0.3) -> None:
    """Make ``module.function`` sleep first: it holds the race window open inside the transaction."""
    import importlib
    import time

    module_name, name = target.rsplit(".", 1)
    module = importlib.import_module(module_name)
    original = getattr(module, name)

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)
