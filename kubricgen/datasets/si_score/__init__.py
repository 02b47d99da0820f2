"""SI-Score regenerated with 3D-rendered objects: factors, specs, cut-outs, compositing, the TFDS builder, export.

`import kubricgen.datasets.si_score` registers the TFDS builder `si_score`.
"""
from kubricgen.datasets.si_score.si_score_dataset_builder import Builder, SiScoreConfig
