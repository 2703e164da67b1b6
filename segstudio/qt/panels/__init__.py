"""Dock panels: passive views fed by the sessions (setters, signals) that emit requests."""
