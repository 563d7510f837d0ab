"""Golden values from Blender (bpy 5.0.1): the reference the twins are tested against."""
