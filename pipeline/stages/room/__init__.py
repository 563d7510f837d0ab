"""Room stage: RANSAC floor, box fit, differentiable refinement (docs/room_stage.md)."""
