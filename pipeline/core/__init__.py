"""Core: what every layer shares (case, scene, config machinery, events, geometry, bundle, IO).

Imports nothing else of the pipeline (docs/architecture.md)."""
