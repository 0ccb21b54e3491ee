"""The registry's data quality (数据质量): deduplication rate and completeness, live and over time.

``selectors`` computes the figures from SQL aggregates grouped by path; ``services`` stores one
``QualitySnapshot`` a day per area for the trend; ``views`` is the page ``/registry/quality/``.
"""
