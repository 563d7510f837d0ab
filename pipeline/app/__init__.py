"""App: the `photo2scene` commands (reconstruct, refine, report, export, bench); the top layer."""
