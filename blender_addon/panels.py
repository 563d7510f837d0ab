"""The 3D View sidebar tab "Photo2Scene": inputs and Reconstruct with progress and Cancel, Import, the active
reconstruction (Compare, Refine), and the top-k candidates of the active object and its materials."""

from __future__ import annotations

import textwrap
from pathlib import Path

import bpy

from .edits import (cached_scene, candidate_rows, candidate_thumbnail, candidates, chosen_index, material_spec,
                    object_spec)
from .operators import active_reconstruction
from .preferences import get_prefs, resolve_python
from .scene_format import PROP_CHOSEN, PROP_LOCKED, PROP_PROPOSAL
from .sync import bundle_root, material_name, object_name, object_root

_previews = None  # bpy.utils.previews collection for candidate thumbnails


def thumbnail_icon(path: Path) -> int:
    """Icon id of an image file for `template_icon` (0 when it cannot be shown)."""
    global _previews
    try:
        if _previews is None:
            import bpy.utils.previews

            _previews = bpy.utils.previews.new()
        key = str(path)
        if key not in _previews:
            if not path.is_file():
                return 0
            _previews.load(key, key, "IMAGE")
        return _previews[key].icon_id
    except Exception:  # previews need a GPU context in some builds; a missing thumbnail is not an error
        return 0


def free_previews() -> None:
    global _previews
    if _previews is not None:
        import bpy.utils.previews

        bpy.utils.previews.remove(_previews)
        _previews = None


def wrapped(layout, text: str, width: int = 42, icon: str = "NONE") -> None:
    """Long messages (errors, paths) as several labels: the sidebar does not wrap."""
    for i, line in enumerate(textwrap.wrap(text, width) or [""]):
        layout.label(text=line, icon=icon if i == 0 else "BLANK1" if icon != "NONE" else "NONE")


class _Sidebar:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Photo2Scene"


class PHOTO2SCENE_PT_main(_Sidebar, bpy.types.Panel):
    bl_label = "Photo2Scene"
    bl_idname = "PHOTO2SCENE_PT_main"

    def draw(self, context):
        layout = self.layout
        props = context.scene.photo2scene
        job = context.window_manager.photo2scene_job
        col = layout.column()
        col.prop(props, "photo")
        col.prop(props, "estimates")
        col.prop(props, "output_dir")
        if job.running:
            col.progress(factor=job.progress, type="BAR", text=job.label or "starting...")
            if job.message:
                wrapped(col, job.message)
            col.operator("photo2scene.cancel", icon="CANCEL")
            return
        row = col.row()
        row.enabled = bool(props.photo)
        row.scale_y = 1.4
        row.operator("photo2scene.reconstruct", icon="PLAY")
        if not resolve_python(get_prefs(context)):
            wrapped(col, "Set the Pipeline Python in the add-on's preferences", icon="ERROR")
        if job.status == "failed" and job.error:
            box = col.box()
            wrapped(box, job.error, icon="ERROR")
            if job.log_path:
                op = box.operator("wm.path_open", text="Open Log", icon="TEXT")
                op.filepath = job.log_path
        elif job.status == "cancelled":
            col.label(text="Cancelled", icon="INFO")


class PHOTO2SCENE_PT_import(_Sidebar, bpy.types.Panel):
    bl_label = "Import"
    bl_parent_id = "PHOTO2SCENE_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        props = context.scene.photo2scene
        col = self.layout.column()
        col.prop(props, "bundle")
        col.prop(props, "render_settings", text="Render")
        col.prop(props, "candidate_assets")
        op = col.operator("photo2scene.import_bundle", icon="IMPORT")
        op.directory = props.bundle
        op.render_settings = props.render_settings
        op.candidate_assets = props.candidate_assets


class PHOTO2SCENE_PT_reconstruction(_Sidebar, bpy.types.Panel):
    bl_label = "Reconstruction"
    bl_parent_id = "PHOTO2SCENE_PT_main"

    def draw(self, context):
        props = context.scene.photo2scene
        col = self.layout.column()
        col.prop(props, "reconstruction", text="")
        coll = active_reconstruction(context)
        if coll is None:
            col.label(text="Reconstruct or import a bundle", icon="INFO")
            return
        root = bundle_root(coll)
        scene = cached_scene(root) if root else None
        if scene is None:
            wrapped(col, f"bundle not found: {root}", icon="ERROR")
            return
        room = scene.stages.get("room") or {}
        iou = room.get("iou_after")
        if isinstance(iou, dict) and iou:
            col.label(text="room IoU " + ", ".join(f"{k} {v:.2f}" for k, v in iou.items()
                                                   if isinstance(v, (int, float))))
        _draw_outcome(col, scene)
        col.operator("photo2scene.compare", icon="RENDER_STILL")
        row = col.row(align=True)
        row.prop(props, "refine_stage", text="")
        row.operator("photo2scene.refine", text="Refine", icon="FILE_REFRESH")


class _OfReconstruction(_Sidebar):
    """A sub-panel shown only while a reconstruction is active."""

    bl_parent_id = "PHOTO2SCENE_PT_main"

    @classmethod
    def poll(cls, context):
        return active_reconstruction(context) is not None


class PHOTO2SCENE_PT_candidates(_OfReconstruction, bpy.types.Panel):
    bl_label = "Candidates"

    def draw(self, context):
        layout = self.layout
        coll = active_reconstruction(context)
        root = bundle_root(coll)
        scene = cached_scene(root) if root else None
        obj = context.active_object
        if scene is None or obj is None:
            layout.label(text="Select an object of the reconstruction")
            return
        shown = False
        owner = object_root(obj)
        if owner is not None:
            name = object_name(owner)
            spec = object_spec(scene, name)
            chosen = owner.get(PROP_CHOSEN, chosen_index(spec))
            _draw_flags(layout, spec)
            if PROP_PROPOSAL in owner.keys():
                layout.prop(owner, f'["{PROP_PROPOSAL}"]', text="Unconfirmed proposal (untick to confirm)",
                            icon="QUESTION")
            shown |= draw_candidates(layout, root, f"Object {name}", "OBJECT", name, candidates(spec), chosen)
        for slot in getattr(obj, "material_slots", []):
            name = material_name(slot.material, obj, scene)
            if not name:
                continue
            spec = material_spec(scene, name)
            chosen = slot.material.get(PROP_CHOSEN, chosen_index(spec))
            shown |= draw_candidates(layout, root, f"Material {name}", "MATERIAL", name, candidates(spec), chosen)
        if not shown:
            layout.label(text="No alternatives for the selection")


class PHOTO2SCENE_PT_locks(_OfReconstruction, bpy.types.Panel):
    """The selection's locks: a locked light or material is kept by Refine as the artist set it (an edit locks it
    when Refine writes the edits back; unlock it here to let the pipeline fit it again)."""

    bl_label = "Locks"

    def draw(self, context):
        layout = self.layout
        obj = context.active_object
        rows = []
        if obj is not None and obj.type == "LIGHT" and PROP_LOCKED in obj.keys():
            rows.append((obj, f"Light {obj.name}"))
        for slot in getattr(obj, "material_slots", []) if obj is not None else []:
            if slot.material is not None and PROP_LOCKED in slot.material.keys():
                rows.append((slot.material, f"Material {slot.material.name}"))
        if not rows:
            layout.label(text="Select a light or an object of the reconstruction")
        for idblock, text in rows:
            locked = bool(idblock.get(PROP_LOCKED))
            layout.prop(idblock, f'["{PROP_LOCKED}"]', text=text, icon="LOCKED" if locked else "UNLOCKED")


class PHOTO2SCENE_PT_material_library(_Sidebar, bpy.types.Panel):
    bl_label = "Material Library"
    bl_parent_id = "PHOTO2SCENE_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        col = self.layout.column()
        obj = context.object
        mat = obj.active_material if obj is not None else None
        if mat is None:
            col.label(text="Select an object with a material", icon="INFO")
            return
        col.label(text=mat.name, icon="MATERIAL")
        col.prop(context.scene.photo2scene, "material_category")
        col.operator("photo2scene.add_material", icon="ADD")
        wrapped(col, "Then rebuild the CLIP index (photo2scene materials index) so retrieval finds it.")


FLAG_TEXT = {
    "low_mask_iou": "Covers little of its mask: delete it, or move/turn it and Refine",
    "proxy": "Proxy from the mask and depth (no library model fits): pick a candidate below to swap",
    "parametric": "Generated to the mask's size (curtain, blind or rug)",
}


def _draw_flags(layout, spec) -> None:
    """One warning line per flag the object stage set on the object (scene.json `flags`)."""
    for flag in (spec.get("flags") if spec is not None else None) or []:
        layout.label(text=FLAG_TEXT.get(flag, flag), icon="ERROR" if flag == "low_mask_iou" else "INFO")


def _draw_outcome(layout, scene) -> None:
    """The run's outcome (scene.json `stages.outcome`): its warnings in red, which estimators ran, and the
    furniture proposals still to confirm."""
    outcome = scene.stages.get("outcome")
    if not isinstance(outcome, dict):
        return
    warnings = [w for w in outcome.get("warnings") or [] if isinstance(w, str)]
    proposals = [o.name for o in scene.objects if o.proposal]
    if not warnings and not proposals and not outcome.get("estimators"):
        return
    box = layout.box()
    for warning in warnings:
        wrapped(box, warning, icon="ERROR")
    if proposals:
        wrapped(box, f"{len(proposals)} unconfirmed furniture proposal(s) ({', '.join(proposals)}): select one to "
                     "confirm it, use another candidate, or delete it", icon="QUESTION")
    if outcome.get("estimators"):
        wrapped(box, f"Estimators: {outcome['estimators']}", icon="INFO")


def draw_candidates(layout, root: Path, title: str, kind: str, name: str, items: list, chosen: int) -> bool:
    """One box per entry: its candidates best first by their fit (edits.candidate_rows), each with its thumbnail
    where the bundle has one, its name and fit, and "Use this". False if there are none."""
    if not items:
        return False
    box = layout.box()
    box.label(text=title)
    for entry in candidate_rows(items):
        row = box.row(align=True)
        thumb = candidate_thumbnail(root, items[entry.index])
        icon = thumbnail_icon(thumb) if thumb is not None else 0
        if icon:
            row.template_icon(icon_value=icon, scale=2.0)
        row.label(text=entry.text)
        op = row.operator("photo2scene.use_candidate", text="In use" if entry.index == chosen else "Use this",
                          depress=entry.index == chosen)
        op.kind, op.name, op.index = kind, name, entry.index
    return True


classes = (PHOTO2SCENE_PT_main, PHOTO2SCENE_PT_import, PHOTO2SCENE_PT_reconstruction, PHOTO2SCENE_PT_candidates,
           PHOTO2SCENE_PT_locks, PHOTO2SCENE_PT_material_library)
