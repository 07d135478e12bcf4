"""The building blocks every process's spec model shares (strict models, names, classes)."""
