"""Reusable widgets shared by panels and the window (tool bar, training plots)."""
