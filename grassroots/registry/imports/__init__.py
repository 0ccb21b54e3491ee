"""Spreadsheet/CSV import pipeline: departments' files → source records → persons."""
