"""Material and light stage: lights, material retrieval, joint optimisation (docs/materials_lights.md)."""
