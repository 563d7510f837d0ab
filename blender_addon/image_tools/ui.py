"""Image Editor tools (Image Editor > Sidebar > Photo2Scene): click-based segment correction, material clicks and
user crop pairs on a bundle's photo.

Logic lives in plain functions (`open_photo`, `segment_click`, `undo_click`, `save_to_bundle`, `material_click`,
`add_crop_rect`, `save_crops`) that the operators call and that the headless tests call directly: in the bpy module
modal loops and draw handlers never run. The serve process and the masks are session state (`STATE`), not saved in
the .blend; segment labels and crop pairs are scene properties, so they survive a save.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import bpy
from bpy.props import (BoolProperty, CollectionProperty, EnumProperty, FloatProperty, FloatVectorProperty,
                       IntProperty, PointerProperty, StringProperty)

from array import array

from ..bundle import safe_bundle_file
from . import client as cl

PHOTO_IMAGE = "photo2scene photo"
RENDER_IMAGE = "photo2scene render"
MASK_IMAGE = "photo2scene mask"
SEG_SESSION = "segments"
MAT_SESSION = "material"
MASK_COLOR = (1.0, 0.35, 0.0, 0.45)
MATERIAL_COLOR = (0.1, 0.6, 1.0, 0.45)


class _State:
    """Session state that must not go into the .blend: the serve process and the masks it returned."""

    def __init__(self) -> None:
        self.client: cl.ServeClient | None = None
        self.argv: list[str] | None = None
        self.bundle: Path | None = None
        self.size: tuple[int, int] = (0, 0)
        self.masks: dict[int, cl.Mask] = {}  # last mask per surface (segment id)
        self.history: list[tuple[int, cl.Mask | None]] = []  # (surface, its mask before the click) for undo
        self.shown: int | None = None  # surface (or -1: material selection) the overlay shows
        self.drag: tuple[float, float, float, float] | None = None  # crop rectangle being drawn (pixels)
        self.draw_handle = None
        self.draw_failed = False

    def stop(self) -> None:
        """End the serve process and forget its masks (the draw handler stays: unregister removes it)."""
        if self.client is not None:
            self.client.close()
        self.client = self.argv = self.bundle = self.shown = self.drag = None
        self.size = (0, 0)
        self.masks.clear()
        self.history.clear()


STATE = _State()


def _props(context: bpy.types.Context) -> "PHOTO2SCENE_ImageProps":
    return context.scene.photo2scene_image


# --------------------------------------------------------------------------------------------- properties

def _label_items(self, context):
    return [(name, name.title(), f"Label the segment '{name}'") for name in cl.STUFF_LABELS + cl.THING_LABELS]


def _apply_label_preset(self, context) -> None:
    seg = active_segment(context)
    if seg is not None:
        seg.label = self.label_preset
        seg.kind = cl.kind_of(self.label_preset)


def _segment_changed(self, context) -> None:
    show_mask(context)


_material_items: list[tuple[str, str, str]] = []  # dynamic enum items must stay referenced


def _material_enum(self, context):
    global _material_items
    root = STATE.bundle or _bundle_of(context)
    names = cl.scene_materials(root) if root else []
    _material_items = [(n, n, f"Crops of material {n}") for n in names] or [("", "(no scene.json)", "")]
    return _material_items


class PHOTO2SCENE_ImgSegment(bpy.types.PropertyGroup):
    seg_id: IntProperty(name="Id", min=1, max=65535)
    label: StringProperty(name="Label", description="ADE20K-style name (wall, floor, sofa, ...) or any text")
    kind: EnumProperty(name="Kind", items=[("stuff", "Stuff", "Room surface"), ("thing", "Thing", "Furniture")])
    extra: StringProperty(description="Other fields of the segments.json entry, as JSON (kept on save)")


class PHOTO2SCENE_ImgCrop(bpy.types.PropertyGroup):
    material: StringProperty(name="Material", description="The material (or object part's material) this crop shows")
    photo: FloatVectorProperty(name="Photo", size=4, description="x, y, w, h in photo pixels (top-left origin)")
    render: FloatVectorProperty(name="Render", size=4, description="x, y, w, h in photo pixels on the render")
    has_photo: BoolProperty()
    has_render: BoolProperty()


class PHOTO2SCENE_ImageProps(bpy.types.PropertyGroup):
    bundle: StringProperty(name="Bundle", subtype="DIR_PATH",
                           description="Bundle whose photo to edit; empty: the active reconstruction's")
    segments: CollectionProperty(type=PHOTO2SCENE_ImgSegment)
    segment_index: IntProperty(name="Segment", description="The segment that clicks edit", update=_segment_changed)
    label_preset: EnumProperty(name="Set Label", items=_label_items, update=_apply_label_preset,
                               description="Give the active segment one of the pipeline's labels")
    crops: CollectionProperty(type=PHOTO2SCENE_ImgCrop)
    crop_index: IntProperty(name="Crop")
    crop_material: EnumProperty(name="Material", items=_material_enum,
                                description="Material for the active crop pair")
    crop_target: EnumProperty(name="Draw On", default="BOTH", items=[
        ("BOTH", "Both", "One rectangle for the photo and the render"),
        ("PHOTO", "Photo", "The rectangle on the photo"),
        ("RENDER", "Render", "The rectangle on the render (draw it on the Compare render)")])
    backend: EnumProperty(name="Click Model", default="auto", items=[
        ("auto", "Auto", "SAM when its weights are installed, else the offline graph cut"),
        ("offline", "Offline", "Graph cut on colour, texture and depth; no weights"),
        ("sam", "SAM", "Segment Anything (needs its checkpoint)")])
    status: StringProperty()


# ------------------------------------------------------------------------------------------------ helpers

def _bundle_of(context: bpy.types.Context) -> Path | None:
    props = getattr(context.scene, "photo2scene_image", None)
    if props is not None and props.bundle:
        return Path(bpy.path.abspath(props.bundle))
    from ..operators import active_reconstruction
    from ..sync import bundle_root

    return bundle_root(active_reconstruction(context))


def active_segment(context: bpy.types.Context) -> PHOTO2SCENE_ImgSegment | None:
    props = _props(context)
    if 0 <= props.segment_index < len(props.segments):
        return props.segments[props.segment_index]
    return None


def serve_argv(context: bpy.types.Context) -> list[str]:
    from ..preferences import get_prefs, resolve_python

    python = resolve_python(get_prefs(context))
    if not python:
        raise cl.ServeError("no Python with the photo2scene pipeline: set Pipeline Python in the preferences")
    return cl.serve_command(python, _props(context).backend)


def _client(context: bpy.types.Context, argv: list[str] | None = None) -> cl.ServeClient:
    """The running serve process, (re)started when it is gone or another command is wanted."""
    argv = argv or STATE.argv or serve_argv(context)
    if STATE.client is None or not STATE.client.alive or argv != STATE.argv:
        if STATE.client is not None:
            STATE.client.close()
        from ..jobs import child_env

        STATE.client = cl.ServeClient(argv, env=child_env()).start()
        STATE.argv = argv
    return STATE.client


def show_in_image_editors(image: bpy.types.Image) -> None:
    for window in getattr(bpy.context.window_manager, "windows", []):
        for area in window.screen.areas:
            if area.type == "IMAGE_EDITOR":
                area.spaces.active.image = image
                area.tag_redraw()


def _redraw() -> None:
    for window in getattr(bpy.context.window_manager, "windows", []):
        for area in window.screen.areas:
            if area.type == "IMAGE_EDITOR":
                area.tag_redraw()


def set_overlay(mask: cl.Mask | None, color=MASK_COLOR) -> bpy.types.Image | None:
    """Show `mask` over the photo: the pixels go into the image MASK_IMAGE, which the draw handler draws."""
    img = bpy.data.images.get(MASK_IMAGE)
    if mask is None:
        if img is not None:
            img.pixels.foreach_set(array("f", bytes(4 * len(img.pixels))))
            img.update()
        _redraw()
        return img
    if img is not None and tuple(img.size) != (mask.width, mask.height):
        bpy.data.images.remove(img)
        img = None
    if img is None:
        img = bpy.data.images.new(MASK_IMAGE, mask.width, mask.height, alpha=True, float_buffer=True)
        img.colorspace_settings.name = "Non-Color"
        img.use_fake_user = False
    img.pixels.foreach_set(cl.overlay_pixels(mask, color))
    img.update()
    _redraw()
    return img


def show_mask(context: bpy.types.Context) -> None:
    """Overlay the active segment's last mask (none until it has been clicked in this session)."""
    seg = active_segment(context)
    mask = STATE.masks.get(seg.seg_id) if seg is not None else None
    STATE.shown = seg.seg_id if mask is not None else None
    if bpy.data.images.get(MASK_IMAGE) is not None or mask is not None:
        set_overlay(mask)


# --------------------------------------------------------------------------------------------- functions

def open_photo(context: bpy.types.Context, bundle: str | Path | None = None,
               argv: list[str] | None = None) -> bpy.types.Image:
    """Load the bundle's photo into the Image Editor, start serve, open the photo with the bundle's depth and
    segmentation, and list its segments and crop pairs."""
    root = Path(bundle) if bundle else _bundle_of(context)
    if root is None or not (root / "photo.png").is_file():
        raise cl.ServeError(f"no bundle photo to open ({root}/photo.png): import a reconstruction or set Bundle")
    props = _props(context)
    props.bundle = str(root)
    case = root / "case"
    client = _client(context, argv)
    req = {"image": str(root / "photo.png"), "image_id": SEG_SESSION}
    if (case / "segmentation.png").is_file():
        req["segmentation"] = str(case / "segmentation.png")
    if (case / "depth.npy").is_file():
        req["depth"] = str(case / "depth.npy")
    reply = client.request("open", **req)
    STATE.bundle, STATE.size = root, (int(reply["width"]), int(reply["height"]))
    STATE.masks.clear()
    STATE.history.clear()
    STATE.shown = None

    props.segments.clear()
    for item in cl.read_segments(root):
        seg = props.segments.add()
        seg.seg_id, seg.label = int(item["id"]), str(item.get("label", ""))
        seg.kind = item.get("kind") if item.get("kind") in cl.KINDS else cl.kind_of(seg.label)
        seg.extra = json.dumps({k: v for k, v in item.items() if k not in ("id", "label", "kind")})
    props.segment_index = 0 if len(props.segments) else -1
    load_crops(context, root)

    img = bpy.data.images.get(PHOTO_IMAGE)
    if img is not None:
        bpy.data.images.remove(img)
    img = bpy.data.images.load(str(safe_bundle_file(root, "photo.png")), check_existing=False)  # no links
    img.name = PHOTO_IMAGE
    show_in_image_editors(img)
    set_overlay(None)
    props.status = (f"{root.name}: {STATE.size[0]}x{STATE.size[1]}, {len(props.segments)} segments, "
                    f"{reply.get('seconds', 0):.2f} s")
    return img


def new_segment(context: bpy.types.Context, label: str = "") -> PHOTO2SCENE_ImgSegment:
    """A new empty segment (the next free id); the first positive click gives it pixels."""
    props = _props(context)
    seg = props.segments.add()
    seg.seg_id = max([s.seg_id for s in props.segments if s != seg] + [0]) + 1
    seg.label = label
    seg.kind = cl.kind_of(label)
    props.segment_index = len(props.segments) - 1
    return seg


def segment_click(context: bpy.types.Context, x: float, y: float, positive: bool = True) -> dict:
    """One click (photo pixels, top-left origin) on the active segment; the overlay shows its new mask."""
    seg = active_segment(context)
    if seg is None:
        raise cl.ServeError("pick a segment (or add a new one) first")
    if STATE.client is None or STATE.bundle is None:
        raise cl.ServeError("open the bundle's photo first")
    reply = STATE.client.request("click", image_id=SEG_SESSION, surface=seg.seg_id, x=float(x), y=float(y),
                                 positive=bool(positive))
    mask = cl.decode_rle(reply["mask"])
    STATE.history.append((seg.seg_id, STATE.masks.get(seg.seg_id)))
    STATE.masks[seg.seg_id] = mask
    # A positive click may take pixels from neighbours: their cached masks are stale now.
    for other in [k for k in STATE.masks if k != seg.seg_id]:
        STATE.masks.pop(other)
    STATE.shown = seg.seg_id
    set_overlay(mask)
    _props(context).status = (f"segment {seg.seg_id} ({seg.label or 'no label'}): {reply['area']} px, "
                              f"{reply.get('seconds', 0):.2f} s")
    return reply


def undo_click(context: bpy.types.Context) -> list[int]:
    """Undo the last click (the server's own undo) and show the mask that segment had before."""
    if STATE.client is None:
        raise cl.ServeError("open the bundle's photo first")
    reply = STATE.client.request("undo", image_id=SEG_SESSION)
    if STATE.history:
        surface, previous = STATE.history.pop()
        if previous is None:
            STATE.masks.pop(surface, None)
        else:
            STATE.masks[surface] = previous
        props = _props(context)
        for i, seg in enumerate(props.segments):
            if seg.seg_id == surface:
                props.segment_index = i  # also refreshes the overlay
        show_mask(context)
    return list(reply.get("surface_ids", []))


def save_to_bundle(context: bpy.types.Context) -> cl.SaveResult:
    """Write the corrected segmentation and the segments' labels into the bundle's case/ (previous copies under
    edits/). Refine from the room or objects stage then uses them."""
    props = _props(context)
    if STATE.client is None or STATE.bundle is None:
        raise cl.ServeError("open the bundle's photo first")
    root = STATE.bundle
    (root / "edits").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root / "edits") as tmp:
        out = Path(tmp) / "labels.png"
        reply = STATE.client.request("labels", image_id=SEG_SESSION, out=str(out))
        segments = []
        for seg in props.segments:
            extra = json.loads(seg.extra) if seg.extra else {}
            segments.append({**extra, "id": seg.seg_id, "label": seg.label, "kind": seg.kind})
        result = cl.save_segmentation(root, out, reply["surface_ids"], segments)
    dropped = set(result.dropped)
    for i in reversed(range(len(props.segments))):
        if props.segments[i].seg_id in dropped:
            props.segments.remove(i)
    props.segment_index = min(props.segment_index, len(props.segments) - 1)
    props.status = (f"saved {len(props.segments)} segments to {root.name}/case"
                    + (f" (dropped empty {sorted(dropped)})" if dropped else "") + "; Refine from room or objects")
    return result


def material_click(context: bpy.types.Context, x: float, y: float) -> tuple[cl.Mask, tuple | None]:
    """Select the material under a click: one positive click in a separate serve session (so the segmentation
    is untouched) gives the connected region that looks like the clicked spot. The largest rectangle inside it
    becomes the active crop pair's photo window when there is one. Returns (mask, rectangle)."""
    if STATE.client is None or STATE.bundle is None:
        raise cl.ServeError("open the bundle's photo first")
    client = STATE.client
    client.request("close", image_id=MAT_SESSION)  # each material click starts afresh
    req = {"image": str(STATE.bundle / "photo.png"), "image_id": MAT_SESSION}
    if (STATE.bundle / "case" / "depth.npy").is_file():
        req["depth"] = str(STATE.bundle / "case" / "depth.npy")
    client.request("open", **req)
    reply = client.request("click", image_id=MAT_SESSION, surface=1, x=float(x), y=float(y), positive=True)
    mask = cl.decode_rle(reply["mask"])
    STATE.shown = -1
    set_overlay(mask, MATERIAL_COLOR)
    rect = cl.largest_rectangle(mask) if mask.area else None
    props = _props(context)
    if rect is not None and 0 <= props.crop_index < len(props.crops):
        crop = props.crops[props.crop_index]
        crop.photo, crop.has_photo = rect, True
    props.status = f"material at ({x:.0f}, {y:.0f}): {mask.area} px" + (f", crop {rect}" if rect else "")
    return mask, rect


def load_crops(context: bpy.types.Context, root: Path) -> None:
    props = _props(context)
    props.crops.clear()
    pairs, size = cl.read_crop_pairs(root)
    for pair in pairs:
        crop = props.crops.add()
        crop.material = pair.material
        if size and STATE.size[0] and tuple(size) != STATE.size:  # stored at another size: back to photo pixels
            sx, sy = STATE.size[0] / size[0], STATE.size[1] / size[1]
            scale = lambda b: (b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy)  # noqa: E731
        else:
            scale = lambda b: b  # noqa: E731
        crop.photo, crop.has_photo = scale(pair.photo), True
        if pair.render is not None:
            crop.render, crop.has_render = scale(pair.render), True
    props.crop_index = len(props.crops) - 1


def add_crop_rect(context: bpy.types.Context, target: str, x0: float, y0: float, x1: float, y1: float,
                  image_size: tuple[int, int] | None = None) -> PHOTO2SCENE_ImgCrop:
    """Put a rectangle (two corners in pixels of an image of `image_size`, default the photo's) on the active crop
    pair (a new one if there is none) as its photo window, render window or both (`target`)."""
    props = _props(context)
    pw, ph = STATE.size if STATE.size[0] else (image_size or (0, 0))
    iw, ih = image_size or (pw, ph)
    sx, sy = pw / iw, ph / ih  # a render of another size: store in photo pixels, one `size` for the file
    rect = cl.normalise_rect(x0 * sx, y0 * sy, x1 * sx, y1 * sy, pw, ph)
    if not (0 <= props.crop_index < len(props.crops)):
        crop = props.crops.add()
        props.crop_index = len(props.crops) - 1
        crop.material = props.crop_material if props.crop_material else ""
    crop = props.crops[props.crop_index]
    if target in ("PHOTO", "BOTH"):
        crop.photo, crop.has_photo = rect, True
    if target == "RENDER":
        crop.render, crop.has_render = rect, True
    if target == "BOTH":
        crop.has_render = False  # the same window on both: crops.py defaults render to photo
    props.status = f"crop {props.crop_index + 1} ({crop.material or 'no material'}): {target.lower()} {rect}"
    return crop


def save_crops(context: bpy.types.Context) -> Path:
    """Write the scene's crop pairs to `<bundle>/crops.json` for the material stage."""
    props = _props(context)
    root = STATE.bundle or _bundle_of(context)
    if root is None or not STATE.size[0]:
        raise cl.ServeError("open the bundle's photo first")
    pairs = []
    for i, crop in enumerate(props.crops):
        if not crop.has_photo:
            raise ValueError(f"crop {i + 1} has no photo rectangle")
        pairs.append(cl.CropPair(crop.material, tuple(crop.photo), tuple(crop.render) if crop.has_render else None))
    path = cl.write_crop_pairs(root, pairs, STATE.size)
    props.status = f"wrote {len(pairs)} crop pairs to {path.name}; Refine from the materials stage uses them"
    return path


def show_render(context: bpy.types.Context) -> bpy.types.Image:
    """Show the Compare render (`<bundle>/compare/render.png`) in the Image Editor, to draw render windows on."""
    root = STATE.bundle or _bundle_of(context)
    path = safe_bundle_file(root, "compare/render.png") if root else None
    if path is None or not path.is_file():
        raise cl.ServeError("no render yet: run Compare in the 3D View panel first")
    img = bpy.data.images.get(RENDER_IMAGE)
    if img is not None:
        bpy.data.images.remove(img)
    img = bpy.data.images.load(str(path), check_existing=False)
    img.name = RENDER_IMAGE
    show_in_image_editors(img)
    _props(context).crop_target = "RENDER"
    return img


def show_photo(context: bpy.types.Context) -> bpy.types.Image | None:
    img = bpy.data.images.get(PHOTO_IMAGE)
    if img is not None:
        show_in_image_editors(img)
        if _props(context).crop_target == "RENDER":
            _props(context).crop_target = "PHOTO"
    return img


def stop_serve() -> None:
    STATE.stop()


def _on_load(*_args) -> None:
    stop_serve()  # a new file: masks and the process belong to the old one


# ------------------------------------------------------------------------------------------------ drawing

def region_to_pixels(region: bpy.types.Region, mx: float, my: float, size: tuple[int, int]) -> tuple[float, float]:
    """Region coordinates -> image pixels (top-left origin). The Image Editor's view space is the image's UV."""
    u, v = region.view2d.region_to_view(mx, my)
    return u * size[0], (1.0 - v) * size[1]


def _draw_overlay() -> None:
    """POST_PIXEL draw handler of the Image Editor: the mask as a translucent texture and the crop rectangles."""
    if STATE.draw_failed:
        return
    context = bpy.context
    space = context.space_data
    if space is None or space.image is None or not space.image.name.startswith((PHOTO_IMAGE, RENDER_IMAGE)):
        return
    on_photo = space.image.name.startswith(PHOTO_IMAGE)
    try:
        import gpu
        from gpu_extras.batch import batch_for_shader

        region = context.region
        (x0, y0), (x1, y1) = (region.view2d.view_to_region(u, v, clip=False) for u, v in ((0, 0), (1, 1)))
        gpu.state.blend_set("ALPHA")
        mask_img = bpy.data.images.get(MASK_IMAGE)
        if on_photo and STATE.shown is not None and mask_img is not None:
            shader = gpu.shader.from_builtin("IMAGE")
            batch = batch_for_shader(shader, "TRI_FAN", {"pos": ((x0, y0), (x1, y0), (x1, y1), (x0, y1)),
                                                         "texCoord": ((0, 0), (1, 0), (1, 1), (0, 1))})
            shader.bind()
            shader.uniform_sampler("image", gpu.texture.from_image(mask_img))
            batch.draw(shader)
        w, h = STATE.size
        if w:
            crops = _props(context).crops
            if on_photo:
                rects = [(tuple(c.photo), (0.2, 1.0, 0.3, 1.0)) for c in crops if c.has_photo]
            else:  # the render: its own window, else the photo's (used for both)
                rects = [(tuple(c.render if c.has_render else c.photo), (1.0, 0.2, 0.8, 1.0))
                         for c in crops if c.has_render or c.has_photo]
            if STATE.drag is not None:
                a, b, c, d = STATE.drag
                rects.append((cl.normalise_rect(a, b, c, d, w, h), (1.0, 1.0, 0.2, 1.0)))
            shader = gpu.shader.from_builtin("UNIFORM_COLOR")
            for (rx, ry, rw, rh), color in rects:
                px = lambda x, y: (x0 + (x1 - x0) * x / w, y1 - (y1 - y0) * y / h)  # noqa: E731 top-left origin
                corners = [px(rx, ry), px(rx + rw, ry), px(rx + rw, ry + rh), px(rx, ry + rh)]
                lines = [p for i in range(4) for p in (corners[i], corners[(i + 1) % 4])]
                batch = batch_for_shader(shader, "LINES", {"pos": lines})
                shader.bind()
                shader.uniform_float("color", color)
                batch.draw(shader)
        gpu.state.blend_set("NONE")
    except Exception as exc:  # noqa: BLE001 - a broken overlay must not break every redraw of the editor
        STATE.draw_failed = True
        print(f"photo2scene: mask overlay disabled: {exc}")


# ----------------------------------------------------------------------------------------------- operators

def _report_errors(op: bpy.types.Operator, fn, *args) -> set[str]:
    try:
        fn(*args)
    except (cl.ServeError, ValueError, OSError) as exc:
        op.report({"ERROR"}, str(exc))
        return {"CANCELLED"}
    return {"FINISHED"}


class PHOTO2SCENE_OT_image_open(bpy.types.Operator):
    """Open the bundle's photo in the Image Editor and start the click segmenter on it"""

    bl_idname = "photo2scene.image_open"
    bl_label = "Open Photo"

    def execute(self, context):
        return _report_errors(self, open_photo, context)


class PHOTO2SCENE_OT_image_tool(bpy.types.Operator):
    """Click on the photo: segment clicks (Shift/Ctrl: negative), a material click, or drag a crop rectangle.
    Esc or right click ends the tool"""

    bl_idname = "photo2scene.image_tool"
    bl_label = "Image Tool"
    mode: EnumProperty(items=[("SEGMENT", "Segment Clicks", "Left: add to the segment; Shift/Ctrl+Left: remove"),
                              ("MATERIAL", "Material Click", "Select the material under the click"),
                              ("CROP", "Draw Crop", "Drag a rectangle for the active crop pair")])
    # For scripts and tests (no window): one action at these photo pixels.
    x: FloatProperty(default=-1.0)
    y: FloatProperty(default=-1.0)
    x2: FloatProperty(default=-1.0)
    y2: FloatProperty(default=-1.0)
    negative: BoolProperty(default=False)

    def execute(self, context):
        if self.x < 0 or self.y < 0:
            self.report({"ERROR"}, "give x and y (photo pixels), or start the tool from the Image Editor")
            return {"CANCELLED"}
        if self.mode == "SEGMENT":
            return _report_errors(self, segment_click, context, self.x, self.y, not self.negative)
        if self.mode == "MATERIAL":
            return _report_errors(self, material_click, context, self.x, self.y)
        return _report_errors(self, add_crop_rect, context, _props(context).crop_target, self.x, self.y,
                              self.x2, self.y2)

    def invoke(self, context, event):
        if context.area is None or context.area.type != "IMAGE_EDITOR" or context.window is None:
            return self.execute(context)
        if STATE.client is None and self.mode != "CROP":
            self.report({"ERROR"}, "open the bundle's photo first")
            return {"CANCELLED"}
        self._area = context.area
        context.window_manager.modal_handler_add(self)
        context.workspace.status_text_set(
            {"SEGMENT": "Photo2Scene: Left click add, Shift/Ctrl+Left remove, Ctrl+Z undo, Esc/Right click done",
             "MATERIAL": "Photo2Scene: Left click a material, Esc/Right click done",
             "CROP": "Photo2Scene: drag a rectangle, Esc/Right click done"}[self.mode])
        return {"RUNNING_MODAL"}

    def _window_region(self):
        return next((r for r in self._area.regions if r.type == "WINDOW"), None)

    def _pixels(self, event):
        """Image pixels under the mouse, or None outside the editor's image region."""
        region = self._window_region()
        if region is None:
            return None
        mx, my = event.mouse_x - region.x, event.mouse_y - region.y
        if not (0 <= mx < region.width and 0 <= my < region.height):
            return None
        image = self._area.spaces.active.image
        size = tuple(image.size) if image is not None and image.size[0] else STATE.size
        return region_to_pixels(region, mx, my, size), size

    def _finish(self, context):
        context.workspace.status_text_set(None)
        STATE.drag = None
        self._area.tag_redraw()
        return {"FINISHED"}

    def modal(self, context, event):
        if event.type in {"ESC", "RIGHTMOUSE"} and event.value == "PRESS":
            return self._finish(context)
        if self.mode == "SEGMENT" and event.type == "Z" and event.ctrl and event.value == "PRESS":
            _report_errors(self, undo_click, context)
            return {"RUNNING_MODAL"}
        if self.mode == "CROP" and STATE.drag is not None:
            hit = self._pixels(event)
            if hit is not None:
                (px, py), size = hit
                a, b, _, _ = STATE.drag
                STATE.drag = (a, b, px, py)
                self._area.tag_redraw()
                if event.type == "LEFTMOUSE" and event.value == "RELEASE":
                    STATE.drag = None
                    _report_errors(self, add_crop_rect, context, _props(context).crop_target, a, b, px, py, size)
            return {"RUNNING_MODAL"}
        if event.type == "LEFTMOUSE" and event.value == "PRESS":
            hit = self._pixels(event)
            if hit is None:
                return {"PASS_THROUGH"}  # the sidebar, header: let Blender handle it
            (px, py), size = hit
            if self.mode == "SEGMENT":
                _report_errors(self, segment_click, context, px, py, not (event.shift or event.ctrl))
            elif self.mode == "MATERIAL":
                _report_errors(self, material_click, context, px, py)
            else:
                STATE.drag = (px, py, px, py)
            self._area.tag_redraw()
            return {"RUNNING_MODAL"}
        return {"PASS_THROUGH"}  # pan and zoom keep working


class PHOTO2SCENE_OT_show_image(bpy.types.Operator):
    """Show the photo, or the Compare render to draw render windows on"""

    bl_idname = "photo2scene.show_image"
    bl_label = "Show Image"
    which: EnumProperty(items=[("PHOTO", "Photo", "The bundle's photo"),
                               ("RENDER", "Render", "The Compare render (compare/render.png)")])

    def execute(self, context):
        return _report_errors(self, show_render if self.which == "RENDER" else show_photo, context)


class PHOTO2SCENE_OT_image_undo(bpy.types.Operator):
    """Undo the last segment click"""

    bl_idname = "photo2scene.image_undo"
    bl_label = "Undo Click"

    def execute(self, context):
        return _report_errors(self, undo_click, context)


class PHOTO2SCENE_OT_segment_new(bpy.types.Operator):
    """Add an empty segment; positive clicks then give it pixels"""

    bl_idname = "photo2scene.segment_new"
    bl_label = "New Segment"
    label: StringProperty(name="Label")

    def execute(self, context):
        new_segment(context, self.label)
        return {"FINISHED"}


class PHOTO2SCENE_OT_segmentation_save(bpy.types.Operator):
    """Write the corrected segmentation and labels into the bundle (the previous ones are kept under edits/)"""

    bl_idname = "photo2scene.segmentation_save"
    bl_label = "Save to Bundle"

    def execute(self, context):
        try:
            result = save_to_bundle(context)
        except (cl.ServeError, ValueError, OSError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"saved {result.segmentation}; previous copy in {result.backup}")
        return {"FINISHED"}


class PHOTO2SCENE_OT_crop_add(bpy.types.Operator):
    """Add a crop pair for the chosen material; draw its rectangle with Draw Crop"""

    bl_idname = "photo2scene.crop_add"
    bl_label = "Add Crop Pair"

    def execute(self, context):
        props = _props(context)
        crop = props.crops.add()
        crop.material = props.crop_material or ""
        props.crop_index = len(props.crops) - 1
        return {"FINISHED"}


class PHOTO2SCENE_OT_crop_remove(bpy.types.Operator):
    """Remove the active crop pair"""

    bl_idname = "photo2scene.crop_remove"
    bl_label = "Remove Crop Pair"

    def execute(self, context):
        props = _props(context)
        if 0 <= props.crop_index < len(props.crops):
            props.crops.remove(props.crop_index)
            props.crop_index = min(props.crop_index, len(props.crops) - 1)
        return {"FINISHED"}


class PHOTO2SCENE_OT_crop_set_material(bpy.types.Operator):
    """Give the active crop pair the chosen material"""

    bl_idname = "photo2scene.crop_set_material"
    bl_label = "Use Material"

    def execute(self, context):
        props = _props(context)
        if 0 <= props.crop_index < len(props.crops) and props.crop_material:
            props.crops[props.crop_index].material = props.crop_material
        return {"FINISHED"}


class PHOTO2SCENE_OT_crops_save(bpy.types.Operator):
    """Write the crop pairs to <bundle>/crops.json for the material stage"""

    bl_idname = "photo2scene.crops_save"
    bl_label = "Save Crop Pairs"

    def execute(self, context):
        return _report_errors(self, save_crops, context)


class PHOTO2SCENE_OT_serve_stop(bpy.types.Operator):
    """Stop the click segmenter process (unsaved clicks are lost)"""

    bl_idname = "photo2scene.serve_stop"
    bl_label = "Stop Segmenter"

    def execute(self, context):
        stop_serve()
        set_overlay(None)
        return {"FINISHED"}


# --------------------------------------------------------------------------------------------------- panel

class PHOTO2SCENE_UL_segments(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0):
        row = layout.row(align=True)
        row.label(text=str(item.seg_id))
        row.prop(item, "label", text="", emboss=False)
        row.label(text=item.kind)


class PHOTO2SCENE_UL_crops(bpy.types.UIList):
    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0):
        row = layout.row(align=True)
        row.label(text=item.material or "(no material)")
        photo = "photo" if item.has_photo else "-"
        row.label(text=f"{photo} / {'render' if item.has_render else ('same' if item.has_photo else '-')}")


class PHOTO2SCENE_PT_image_tools(bpy.types.Panel):
    bl_label = "Photo2Scene"
    bl_space_type = "IMAGE_EDITOR"
    bl_region_type = "UI"
    bl_category = "Photo2Scene"

    def draw(self, context):
        layout = self.layout
        props = _props(context)
        col = layout.column()
        col.prop(props, "bundle")
        row = col.row(align=True)
        row.operator("photo2scene.image_open", icon="IMAGE_DATA")
        row.prop(props, "backend", text="")
        if props.status:
            col.label(text=props.status)
        running = STATE.client is not None and STATE.client.alive

        box = layout.box()
        box.label(text="Segments", icon="MOD_MASK")
        box.template_list("PHOTO2SCENE_UL_segments", "", props, "segments", props, "segment_index", rows=4)
        row = box.row(align=True)
        row.operator("photo2scene.segment_new", icon="ADD")
        row.prop(props, "label_preset", text="")
        seg = active_segment(context)
        if seg is not None:
            row = box.row(align=True)
            row.prop(seg, "label")
            row.prop(seg, "kind", text="")
        row = box.row(align=True)
        row.enabled = running
        row.operator("photo2scene.image_tool", text="Click Segment", icon="RESTRICT_SELECT_OFF").mode = "SEGMENT"
        row.operator("photo2scene.image_undo", text="", icon="LOOP_BACK")
        sub = box.row()
        sub.enabled = running
        sub.operator("photo2scene.segmentation_save", icon="FILE_TICK")

        box = layout.box()
        box.label(text="Material Crops", icon="MATERIAL")
        box.template_list("PHOTO2SCENE_UL_crops", "", props, "crops", props, "crop_index", rows=3)
        row = box.row(align=True)
        row.prop(props, "crop_material", text="")
        row.operator("photo2scene.crop_set_material", text="", icon="CHECKMARK")
        row.operator("photo2scene.crop_add", text="", icon="ADD")
        row.operator("photo2scene.crop_remove", text="", icon="REMOVE")
        row = box.row(align=True)
        row.operator("photo2scene.show_image", text="Photo", icon="IMAGE_DATA").which = "PHOTO"
        row.operator("photo2scene.show_image", text="Render", icon="RENDER_RESULT").which = "RENDER"
        box.prop(props, "crop_target", expand=True)
        row = box.row(align=True)
        row.operator("photo2scene.image_tool", text="Draw Crop", icon="SELECT_SET").mode = "CROP"
        sub = row.row(align=True)
        sub.enabled = running
        sub.operator("photo2scene.image_tool", text="Material Click", icon="EYEDROPPER").mode = "MATERIAL"
        box.operator("photo2scene.crops_save", icon="FILE_TICK")
        if running:
            layout.operator("photo2scene.serve_stop", icon="CANCEL")


classes = (PHOTO2SCENE_ImgSegment, PHOTO2SCENE_ImgCrop, PHOTO2SCENE_ImageProps, PHOTO2SCENE_OT_image_open,
           PHOTO2SCENE_OT_image_tool, PHOTO2SCENE_OT_show_image, PHOTO2SCENE_OT_image_undo, PHOTO2SCENE_OT_segment_new,
           PHOTO2SCENE_OT_segmentation_save, PHOTO2SCENE_OT_crop_add, PHOTO2SCENE_OT_crop_remove,
           PHOTO2SCENE_OT_crop_set_material, PHOTO2SCENE_OT_crops_save, PHOTO2SCENE_OT_serve_stop,
           PHOTO2SCENE_UL_segments, PHOTO2SCENE_UL_crops, PHOTO2SCENE_PT_image_tools)


def register() -> None:
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.photo2scene_image = PointerProperty(type=PHOTO2SCENE_ImageProps)
    if not bpy.app.background:  # no GPU to draw with headless
        STATE.draw_handle = bpy.types.SpaceImageEditor.draw_handler_add(_draw_overlay, (), "WINDOW", "POST_PIXEL")
    bpy.app.handlers.load_pre.append(_on_load)


def unregister() -> None:
    if _on_load in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(_on_load)
    if STATE.draw_handle is not None:
        bpy.types.SpaceImageEditor.draw_handler_remove(STATE.draw_handle, "WINDOW")
    stop_serve()
    del bpy.types.Scene.photo2scene_image
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
