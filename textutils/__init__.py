"""Neutral text utilities (HTML sanitising, personal-data redaction) that every app may import.

No Django models and no imports from the project's apps: this is the bottom layer.
"""
