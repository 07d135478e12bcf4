"""Names of the clustering check's preprocessing choices and methods (no heavy imports)."""

SCALINGS = ("none", "zscore", "minmax", "robust", "pca_whiten")
METHODS = ("kmeans", "gmm")
