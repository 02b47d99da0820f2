"""Sharding: run keyed jobs on any Beam runner (local processes, Dask, Dataflow, Flink, Spark) with a per-job cache,
retries, timeouts and recycled worker processes, and publish the resulting TFDS dataset atomically (local or gs://).

This layer knows only keys, jobs and examples (the protocols: `pipeline`'s docstring): a job is anything picklable
with a unique `key` (and optionally `items`, a count for progress), a caller's function turns one job into its
examples (for a `shards.ShardedSplit`, serialized records: the function is the serializer), and the caller names the
shard files. It knows nothing of scenes, renderers, assets or any one dataset; gs:// goes through `kubricgen.storage`
(tests/test_packaging.py holds it to that).

The folder is `sharding/`, its stage of the data's path (README "Layout"); it installs as `kubricgen_sharding`
(pyproject's package-dir, as robustness/ installs as kubricgen_robustness), a name no other distribution's top-level
package can clash with. Beam pickles this layer's DoFns by that module path, so a worker image installs it too.
"""
