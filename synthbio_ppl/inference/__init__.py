"""Fitting a scene's model back to data: problem, compiled programs, fit, ArviZ, calibration."""

from synthbio_ppl.inference.fitting import Fit, fit

__all__ = ["Fit", "fit"]
