"""Object stage: retrieval, pose, yaw search, joint refinement (docs/objects.md)."""
