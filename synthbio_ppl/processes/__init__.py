"""Data-generating processes: one module each, registered in ``processes.registry``."""
