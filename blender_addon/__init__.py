"""photo2scene's Blender extension: reconstruct a room from one photo, watch progress, import, edit, refine.

The package has two faces:
- bpy-free modules (`scene_format`, `bundle`, `edits`, `jobs`) that the pipeline and plain Python import;
  `scene_format` is scene.json itself (typed records, validation, room geometry, OBJ reader, shared names);
- the add-on proper (preferences, properties, operators, panels, builders), which needs bpy and is imported only
  in `register()`, so `import blender_addon.bundle` works in processes without Blender.

Installed as an extension its package is `bl_ext.<repo>.photo2scene` (id from blender_manifest.toml), so every
import inside is relative. docs/addon.md is the user's and developer's guide.
"""

from __future__ import annotations


def _modules():
    from . import operators, panels, preferences, properties

    return preferences, properties, operators, panels


def register() -> None:
    import bpy

    preferences, properties, operators, panels = _modules()
    for module in (preferences, properties, operators, panels):
        for cls in module.classes:
            bpy.utils.register_class(cls)
    properties.register_props()
    bpy.types.TOPBAR_MT_file_import.append(operators.menu_import)
    bpy.app.handlers.load_pre.append(operators.cancel_on_load)
    from . import image_tools

    image_tools.register()  # the Image Editor tools (own properties, operators, panel)


def unregister() -> None:
    import bpy

    preferences, properties, operators, panels = _modules()
    from . import image_tools

    image_tools.unregister()
    operators.cancel_all()
    if operators.cancel_on_load in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(operators.cancel_on_load)
    bpy.types.TOPBAR_MT_file_import.remove(operators.menu_import)
    panels.free_previews()
    properties.unregister_props()
    for module in (panels, operators, properties, preferences):
        for cls in reversed(module.classes):
            bpy.utils.unregister_class(cls)
