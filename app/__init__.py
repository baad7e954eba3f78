"""Align: keeps pull requests aligned with the deployment they will run on."""

__version__ = "0.1.0"
