"""What pipeline, materials_db and assets_index all need: user errors, the CLIP loader, libLLVM discovery, a quiet
Blender and image IO. A leaf: it imports nothing from the project, so any package may import it."""
