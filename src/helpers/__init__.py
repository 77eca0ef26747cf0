"""Helpers for the spatial-worldmodel research report: data, models, training, evaluation, figures."""
__version__ = "0.1.0"
