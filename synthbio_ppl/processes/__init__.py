"""One NumPyro (sub)model per data-generating process.

Every block process has the signature ``(block, labels, n_levels, rows, loc_shift, scale,
obs)``: ``labels`` are the row groups that shift its means (classes, or latent groups for
pseudo-classes), ``rows`` the rows plate, and ``loc_shift``/``scale`` the batch effect on
its columns (x = scale · (mean + u) + loc_shift).
"""

from synthbio_ppl.processes.batches import batch_effects
from synthbio_ppl.processes.clusters import cluster
from synthbio_ppl.processes.informative import class_means, informative
from synthbio_ppl.processes.noise import noise
from synthbio_ppl.processes.pseudo import pseudo_classes

BLOCK_PROCESSES = {
    "informative": informative,
    "cluster": cluster,
    "noise": noise,
    "pseudo": pseudo_classes,
}

__all__ = [
    "BLOCK_PROCESSES",
    "batch_effects",
    "class_means",
    "cluster",
    "informative",
    "noise",
    "pseudo_classes",
]
