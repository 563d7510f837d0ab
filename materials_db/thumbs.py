"""Material thumbnails: a flat swatch (the twin's base colour over one UV tile) and a lit preview rendered by Cycles.

The lit preview is the material as Blender builds it (`blender_addon.builders.material.build_material`, the node
tree the artist gets) on a floor-like plane, rendered by Cycles on the CPU: a camera 30 degrees off the normal, one
area key light from the left, and a studio sky (bright within about 25 degrees of the zenith, dark below) so that
metals show a mirrored horizon and gloss shows a highlight. These are the images the CLIP index embeds and the
report shows beside a material's candidates, so they look like surfaces in a room rather than texture maps.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from blender_addon.builders.material import build_material
from p2s_common.blender_log import quiet_blender
from p2s_common.errors import SetupError

from .evaluate import evaluate
from .library import library_dir, load_graph, material_root

SAMPLES = 32  # with Cycles' denoiser, enough for a clean 128 px preview (about 1.5 s on 2 cores)
TILT_DEG = 30.0  # camera angle from the plane's normal: relief and gloss read, a tile still fills most of the frame
FOV_DEG = 30.0
CAMERA_DISTANCE = 1.9  # metres to the plane's centre: about one 1 m UV tile across the frame
PLANE_TILES = 4  # the plane is 4 x 4 m with UVs 0..4 (1 m per UV unit) so it fills the frame at any tilt
KEY = {"location": (-1.4, -0.5, 1.4), "size": 1.0, "watts": 50.0}  # left of the camera: no mirror image in view
SKY = ((0.80, (0.08, 0.08, 0.08)), (0.90, (0.9, 0.92, 0.95)))  # (direction z, colour) stops of the world ramp


def default_dir() -> Path:
    """Thumbnails of the shipped library."""
    return Path(__file__).parent / "thumbnails"


def thumbnail_dir(name: str) -> Path:
    """Where a material's thumbnails live: beside the shipped library, or in its user folder's `thumbnails/`."""
    root = material_root(name)
    return default_dir() if root == library_dir() else root / "thumbnails"


def thumbnail_path(name: str, kind: str = "lit") -> Path:
    """<name>_<kind>.jpg (kind: lit | flat) in the material's thumbnail folder."""
    return thumbnail_dir(name) / f"{name}_{kind}.jpg"


def to_srgb(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0.0, 1.0)
    return torch.where(x <= 0.0031308, 12.92 * x, 1.055 * x.clamp(min=1e-8) ** (1 / 2.4) - 0.055)


def require_bpy(what: str = "lit thumbnails are rendered by Blender's Cycles"):
    """The `bpy` module, or a SetupError saying `what` needs it and how to install it."""
    try:
        import bpy  # lazy: Blender takes seconds to load, and swatches, paths and the index never need it
    except ImportError as exc:
        raise SetupError(f"{what} through the `bpy` module, which is not importable here ({exc}); install it with "
                         "`pip install bpy==5.0.1` (Python 3.11), or run `make setup`") from None
    return bpy


def _look_at(ob, target: tuple[float, float, float]) -> None:
    import mathutils  # comes with bpy (lazy, as there)

    ob.rotation_euler = (mathutils.Vector(target) - ob.location).to_track_quat("-Z", "Y").to_euler()


def _studio_scene(bpy, size: int, samples: int):
    """A fresh scene with the preview's camera, key light and sky; returns the plane to put the material on."""
    bpy.ops.wm.read_homefile(use_empty=True)
    sc = bpy.context.scene
    sc.render.engine = "CYCLES"
    sc.cycles.device = "CPU"
    sc.cycles.samples = samples
    sc.cycles.use_denoising = True
    sc.render.resolution_x = sc.render.resolution_y = size
    sc.render.resolution_percentage = 100
    sc.view_settings.view_transform = "Standard"  # plain sRGB out, like the flat swatch (AgX would tone-map it)
    sc.render.image_settings.file_format = "PNG"

    bpy.ops.mesh.primitive_plane_add(size=float(PLANE_TILES))
    plane = bpy.context.active_object
    for loop in plane.data.uv_layers.active.data:  # 1 m per UV tile, as the material stage maps room surfaces
        loop.uv = loop.uv * float(PLANE_TILES)

    cam = bpy.data.cameras.new("preview")
    cam.lens_unit = "FOV"
    cam.angle = math.radians(FOV_DEG)
    cam_ob = bpy.data.objects.new("preview", cam)
    sc.collection.objects.link(cam_ob)
    sc.camera = cam_ob
    tilt = math.radians(TILT_DEG)
    cam_ob.location = (0.0, -CAMERA_DISTANCE * math.sin(tilt), CAMERA_DISTANCE * math.cos(tilt))
    _look_at(cam_ob, (0.0, 0.0, 0.0))

    light = bpy.data.lights.new("key", "AREA")
    light.size = KEY["size"]
    light.energy = KEY["watts"]
    light_ob = bpy.data.objects.new("key", light)
    sc.collection.objects.link(light_ob)
    light_ob.location = KEY["location"]
    _look_at(light_ob, (0.0, 0.0, 0.0))

    world = bpy.data.worlds.new("studio")
    sc.world = world
    nt = world.node_tree
    coords, split = nt.nodes.new("ShaderNodeTexCoord"), nt.nodes.new("ShaderNodeSeparateXYZ")
    ramp = nt.nodes.new("ShaderNodeValToRGB")
    nt.links.new(coords.outputs["Generated"], split.inputs[0])  # a world's Generated is the ray's direction
    nt.links.new(split.outputs["Z"], ramp.inputs["Fac"])
    for element, (position, colour) in zip(ramp.color_ramp.elements, SKY):
        element.position = position
        element.color = (*colour, 1.0)
    nt.links.new(ramp.outputs["Color"], nt.nodes["Background"].inputs["Color"])
    return sc, plane


def lit_preview(graph: dict, size: int = 128, samples: int = SAMPLES) -> np.ndarray:
    """Render a material graph (dict form) on the preview plane with Cycles; returns sRGB uint8 (size, size, 3)."""
    bpy = require_bpy()
    sc, plane = _studio_scene(bpy, size, samples)
    plane.data.materials.append(build_material(graph))
    with tempfile.TemporaryDirectory() as tmp:
        sc.render.filepath = str(Path(tmp) / "lit.png")
        with quiet_blender():
            bpy.ops.render.render(write_still=True)
        return np.asarray(Image.open(sc.render.filepath).convert("RGB"))


def render_thumbnails(name: str, out_dir: Path | None = None, size: int = 128) -> tuple[Path, Path]:
    """Write <name>_flat.jpg and <name>_lit.jpg (size x size) into `out_dir` (default: the material's thumbnail
    folder) and return their paths."""
    graph = load_graph(name)
    with torch.no_grad():
        flat = evaluate(graph, None, size)["base_color"]
    images = {"flat": (to_srgb(flat).numpy() * 255.0 + 0.5).astype(np.uint8), "lit": lit_preview(graph.to_dict(), size)}
    out_dir = Path(out_dir) if out_dir is not None else thumbnail_dir(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, arr in images.items():
        p = out_dir / f"{name}_{kind}.jpg"
        Image.fromarray(arr).save(p, quality=90)
        paths.append(p)
    return paths[0], paths[1]
