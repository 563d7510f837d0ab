"""Per-entity builders that turn a bundle into Blender data (bpy only; one module per entity, as in the glTF
add-on's blender/ layer). Used by the add-on's import operator and by the pipeline's headless .blend export."""
