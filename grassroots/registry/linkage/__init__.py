"""Record linkage and data quality (四标四实): many source records, one person per person.

Pure engine: imports nothing from Django. Records go in as plain dicts, dataclasses or a
pandas DataFrame; clusters, pair scores and a review band come out (see ``pipeline.link``).
Submodules are imported directly (``from grassroots.registry.linkage.pipeline import link``)
so that parsing addresses or comparing IDs never loads Splink and DuckDB.
The Django side (persons from clusters, the review queue, the data-quality page) builds on
these functions. ``docs/linkage.md`` explains the model and the figures.
"""
