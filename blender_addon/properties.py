"""Properties the panel shows: per scene (saved in the .blend) the inputs and the active reconstruction; per window
manager (not saved) the running job's progress."""

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from .edits import cached_scene, refine_stages
from .sync import BUNDLE_KEY, bundle_root

# Dynamic enum items must stay referenced while Blender uses them (a known Python API pitfall).
_stage_items: list[tuple[str, str, str]] = []


def _refine_stage_items(self, context):
    global _stage_items
    root = bundle_root(self.reconstruction)
    stages = refine_stages(root, cached_scene(root)) if root else []
    _stage_items = [(s, s.replace("_", " ").title(), f"Re-run the {s} stage and the stages after it")
                    for s in stages] or [("NONE", "No stages", "This bundle has no checkpoints to re-run from")]
    return _stage_items


# builders/scene.RENDER_SETTINGS, for the import operator and the panel.
RENDER_SETTINGS_ITEMS = [
    ("PHOTO", "Match the Photo", "The photo's resolution, the Standard view transform and a black World; the render "
                                 "engine and its samples stay as they are"),
    ("CYCLES", "Match the Photo, Cycles", "As Match the Photo, and Cycles with 128 samples and the denoiser"),
    ("KEEP", "Keep Mine", "Change no render settings"),
]


def _is_reconstruction(self, coll: bpy.types.Collection) -> bool:
    return bool(coll.get(BUNDLE_KEY))


class PHOTO2SCENE_SceneProps(bpy.types.PropertyGroup):
    photo: StringProperty(name="Photo", subtype="FILE_PATH", description="The photo of the room (JPEG, PNG, TIFF, EXR)")
    estimates: StringProperty(
        name="Estimates", subtype="DIR_PATH",
        description="Optional folder with camera.json, depth.npy, segmentation.png, segments.json "
                    "(docs/case_format.md)")
    output_dir: StringProperty(name="Output", subtype="DIR_PATH",
                               description="Folder for the new bundle. Empty: the preferences' bundles folder")
    bundle: StringProperty(name="Bundle", subtype="DIR_PATH", description="A bundle folder to import")
    reconstruction: PointerProperty(name="Reconstruction", type=bpy.types.Collection, poll=_is_reconstruction,
                                    description="The reconstruction that Compare, Refine and the candidates act on")
    refine_stage: EnumProperty(name="From Stage", items=_refine_stage_items,
                               description="The stage to re-run from, with the current Blender state")
    render_settings: EnumProperty(name="Render Settings", items=RENDER_SETTINGS_ITEMS, default="PHOTO",
                                  description="What importing a reconstruction changes in the render settings")
    candidate_assets: BoolProperty(name="Candidates as Assets", default=False,
                                   description="Importing also puts every object candidate into the Asset Browser "
                                               "(Current File), in a catalogue named after the reconstruction")
    material_category: StringProperty(name="Category", default="custom",
                                      description="Library category for materials you add (wood, tiles, stone, "
                                                  "fabric, ...)")


class PHOTO2SCENE_JobProps(bpy.types.PropertyGroup):
    """Mirror of the running job's state for drawing (the Job object itself lives in operators._JOBS)."""

    running: BoolProperty()
    kind: StringProperty()
    stage: StringProperty()
    label: StringProperty()
    message: StringProperty()
    progress: FloatProperty(min=0.0, max=1.0, subtype="FACTOR")
    step: IntProperty()
    total: IntProperty()
    status: StringProperty()
    error: StringProperty()
    log_path: StringProperty(subtype="FILE_PATH")


classes = (PHOTO2SCENE_SceneProps, PHOTO2SCENE_JobProps)


def register_props() -> None:
    bpy.types.Scene.photo2scene = PointerProperty(type=PHOTO2SCENE_SceneProps)
    bpy.types.WindowManager.photo2scene_job = PointerProperty(type=PHOTO2SCENE_JobProps)


def unregister_props() -> None:
    del bpy.types.WindowManager.photo2scene_job
    del bpy.types.Scene.photo2scene
