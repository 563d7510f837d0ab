"""photo2scene pipeline: photo + estimates -> Case -> Scene (stage by stage) -> bundle -> Blender."""

__version__ = "0.1.0"
