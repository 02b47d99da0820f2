"""Sharding: run keyed jobs on any Beam runner (local processes, Dask, Dataflow, Flink, Spark) with a per-job cache,
retries, timeouts and recycled worker processes, and publish the resulting TFDS dataset atomically (local or gs://).

This layer knows jobs (anything with a unique `key`) and the function that turns one job into keyed examples; it
knows nothing of scenes, renderers or any one dataset.
"""
