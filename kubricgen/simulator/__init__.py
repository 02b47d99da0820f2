"""Rigid-body simulation views of a scene (PyBullet)."""
