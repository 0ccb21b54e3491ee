"""Insight: measures, dashboards, hotspots (未诉先办), assessment of departments and reports.

The top application layer below ``demo``: it reads every other app and writes only
through their services (a hotspot becomes a case through ``cases.services``).
"""
