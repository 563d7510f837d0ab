"""The Scene as a Mitsuba 3 XML file (meshes as PLY, textures as EXR) to re-render outside Blender.

The scene is built by the same function the material+light stage renders with (`render.scene_render.scene_dict`),
in its file mode, and written by Mitsuba's own dict -> XML writer (`mitsuba.parser`), so the XML is what the stage
optimised: same meshes and UVs, same BSDF layering, same lights (hidden from the camera, as Blender's are).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from pipeline.core.bundle import BundleFiles
from pipeline.core.scene import Scene
from pipeline.render.backend import init_mitsuba
from pipeline.render.scene_render import RenderSettings, path_tracer, scene_dict, scene_surfaces
from pipeline.stages.materials_lights.state import from_scene


def scene_materials(scene: Scene, read: Callable[[str], bytes], resolution: int = 256) -> dict:
    """Render maps of every material scene.json holds (procedural ones evaluated by their twins over the UV tiles
    their surfaces span, `resolution` texels per tile); `read` gives the bundle's files (meshes, graphs)."""
    surfaces = scene_surfaces(scene, read)
    return {name: from_scene(name, spec, read, resolution, surfaces).render_maps()
            for name, spec in scene.materials.items()}


def write_mitsuba_scene(root: Path, scene: Scene, files: BundleFiles | None = None, spp: int = 256,
                        max_depth: int = 6) -> Path:
    """Write root/mitsuba/scene.xml (+ meshes/*.ply, textures/*.exr); returns the XML path. The scene's files are
    read from `files` (default: those already saved under `root`)."""
    init_mitsuba("auto")
    import mitsuba as mi

    out = Path(root) / "mitsuba"
    out.mkdir(parents=True, exist_ok=True)
    cam = scene.camera
    settings = RenderSettings(cam.width, cam.height, spp, max_depth, path_tracer(scene.lights, differentiable=False),
                              extra={"hide_emitters": True})
    files = files if files is not None else BundleFiles(source=root)
    d = scene_dict(scene, scene_materials(scene, files.read), settings, files=out, read=files.read)
    resolver = mi.file_resolver()
    saved = [str(resolver[i]) for i in range(len(resolver))]  # it also locates Mitsuba's own resources
    resolver.prepend(str(out))  # the dict names files relative to the XML's folder
    try:
        state = mi.parser.parse_dict(mi.parser.ParserConfig(mi.variant()), d)
        path = out / "scene.xml"
        mi.parser.write_file(state, str(path))
    finally:
        resolver.clear()
        for entry in saved:
            resolver.append(entry)
    return path
