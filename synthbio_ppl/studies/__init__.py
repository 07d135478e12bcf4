"""Simulation studies: a grid of scenarios over a base scene × replicates × methods ×
metrics scored against the truth (``study``), resumable and parallel."""
