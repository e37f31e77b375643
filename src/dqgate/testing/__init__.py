"""Harness code for the demo, the integration tests and the benchmarks, not the engine.

- :mod:`dqgate.testing.feed`: produce records into a source topic and remember where
  each one landed;
- :mod:`dqgate.testing.audit`: read a gate's output topics back and account for every
  source offset by its lineage headers (zero loss, duplicates);
- :mod:`dqgate.testing.process`: gate workers as child processes (start, wait until
  ready, scrape, stop or kill).

The gate itself (:mod:`dqgate.gate`) imports nothing from here.
"""
