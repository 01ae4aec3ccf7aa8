"""Drift over time: per window and per feature rows in the warehouse database.

``tables`` declares them (with their schema version), ``store`` writes and reads them, and
``reports`` imports the JSON reports runs left in a reports folder.
"""
