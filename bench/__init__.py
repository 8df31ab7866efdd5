"""
Benchmarks and load generators (``make bench``, ``bench/scale.py``, docs/benchmarks.md): no part
of the product. The scripts here run the app from the outside; the Django helpers they need
(``manage.py bench_load``, ``bench_transition``, the ``/bench/ceiling`` view) form the ``bench``
app, which only ``bench.settings`` installs — production settings never see it.
"""
