"""Building and rendering a layout in Blender (bpy): materials, objects, lights, camera, Cycles."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from p2s_common.blender_log import quiet_blender

from .layout import Camera, Layout, Material, _pixel_rays, _walls, trace_layout


def _bpy_material(m: Material):
    import bpy

    mat = bpy.data.materials.new(m.name)
    nt = mat.node_tree
    bsdf = next(n for n in nt.nodes if n.bl_idname == "ShaderNodeBsdfPrincipled")
    bsdf.inputs["Base Color"].default_value = (*m.base_color, 1.0)
    bsdf.inputs["Roughness"].default_value = m.roughness
    bsdf.inputs["Metallic"].default_value = m.metallic
    if m.pattern is None:
        return mat
    coords = nt.nodes.new("ShaderNodeTexCoord")
    mapping = nt.nodes.new("ShaderNodeMapping")
    mapping.inputs["Rotation"].default_value = (0.0, 0.0, m.pattern_angle)
    nt.links.new(coords.outputs["Object"], mapping.inputs["Vector"])  # object space = metres on the floor
    if m.pattern in ("planks", "tiles"):
        brick = nt.nodes.new("ShaderNodeTexBrick")
        brick.offset = 0.5 if m.pattern == "planks" else 0.0
        brick.inputs["Scale"].default_value = 1.0
        brick.inputs["Brick Width"].default_value = m.pattern_size[0]
        brick.inputs["Row Height"].default_value = m.pattern_size[1]
        brick.inputs["Mortar Size"].default_value = 0.003 if m.pattern == "planks" else 0.006
        brick.inputs["Color1"].default_value = (*m.base_color, 1.0)
        brick.inputs["Color2"].default_value = (*m.color2, 1.0)
        mortar = [c * (0.5 if m.pattern == "planks" else 1.3) for c in m.color2]
        brick.inputs["Mortar"].default_value = (*np.clip(mortar, 0, 0.9), 1.0)
        nt.links.new(mapping.outputs["Vector"], brick.inputs["Vector"])
        color_out = brick.outputs["Color"]
        if m.pattern == "planks":  # stretched noise along the planks reads as grain
            mapping.inputs["Scale"].default_value = (1.0, 1.0, 1.0)
            grain_map = nt.nodes.new("ShaderNodeMapping")
            grain_map.inputs["Scale"].default_value = (1.5, 25.0, 1.0)
            nt.links.new(mapping.outputs["Vector"], grain_map.inputs["Vector"])
            noise = nt.nodes.new("ShaderNodeTexNoise")
            noise.inputs["Scale"].default_value = 4.0
            noise.inputs["Detail"].default_value = 4.0
            nt.links.new(grain_map.outputs["Vector"], noise.inputs["Vector"])
            mix = nt.nodes.new("ShaderNodeMix")
            mix.data_type = "RGBA"
            mix.blend_type = "MULTIPLY"
            mix.inputs["Factor"].default_value = 0.25
            nt.links.new(color_out, mix.inputs["A"])
            nt.links.new(noise.outputs["Color"], mix.inputs["B"])
            color_out = mix.outputs["Result"]
    else:  # carpet: fine noise between two close colours
        noise = nt.nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = 1.0 / m.pattern_size[0]
        noise.inputs["Detail"].default_value = 6.0
        nt.links.new(mapping.outputs["Vector"], noise.inputs["Vector"])
        mix = nt.nodes.new("ShaderNodeMix")
        mix.data_type = "RGBA"
        mix.inputs["A"].default_value = (*m.color2, 1.0)
        mix.inputs["B"].default_value = (*m.base_color, 1.0)
        nt.links.new(noise.outputs["Fac"], mix.inputs["Factor"])
        color_out = mix.outputs["Result"]
    nt.links.new(color_out, bsdf.inputs["Base Color"])
    return mat


def _bpy_emission(name: str, color: tuple[float, float, float], strength: float):
    import bpy

    mat = bpy.data.materials.new(name)
    nt = mat.node_tree
    for node in list(nt.nodes):
        nt.nodes.remove(node)
    emit = nt.nodes.new("ShaderNodeEmission")
    emit.inputs["Color"].default_value = (*color, 1.0)
    emit.inputs["Strength"].default_value = strength
    out = nt.nodes.new("ShaderNodeOutputMaterial")
    nt.links.new(emit.outputs["Emission"], out.inputs["Surface"])
    return mat


_BOX_FACES = [(0, 4, 6, 2), (1, 3, 7, 5), (0, 1, 5, 4), (2, 6, 7, 3), (0, 2, 3, 1), (4, 5, 7, 6)]  # outward


def _bpy_object(name: str, verts: list, faces: list, mat_index: list[int], materials: list, segment_id: int,
                location=(0.0, 0.0, 0.0), yaw: float = 0.0):
    import bpy

    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(verts, [], faces)
    for m in materials:
        mesh.materials.append(m)
    mesh.polygons.foreach_set("material_index", mat_index)
    mesh.update()
    obj = bpy.data.objects.new(name, mesh)
    obj.location = location
    obj.rotation_euler = (0.0, 0.0, yaw)
    obj["segment_id"] = segment_id
    bpy.context.scene.collection.objects.link(obj)
    return obj


def _quad_facing(corners: np.ndarray, normal: np.ndarray) -> list[tuple[float, float, float]]:
    """The quad's corners ordered so its normal points along `normal`."""
    n = np.cross(corners[1] - corners[0], corners[2] - corners[1])
    pts = corners if n @ normal > 0 else corners[::-1]
    return [tuple(float(v) for v in p) for p in pts]


def _set_camera(obj, cam: Camera) -> None:
    from mathutils import Matrix

    m = np.eye(4)
    m[:3, :3], m[:3, 3] = cam.rotation, cam.position
    obj.matrix_world = Matrix(m.tolist())


def _add_camera(scene, cam: Camera):
    """A pinhole camera object for `cam` (vertical sensor fit), linked to `scene` and made its camera."""
    import bpy

    cam_data = bpy.data.cameras.new("camera")
    cam_data.sensor_fit = "VERTICAL"
    cam_data.sensor_height = 24.0
    cam_data.sensor_width = 24.0 * cam.width / cam.height
    cam_data.lens = 12.0 / math.tan(math.radians(cam.fov_y_deg) / 2)
    cam_data.clip_start, cam_data.clip_end = 0.02, 100.0
    cam_obj = bpy.data.objects.new("camera", cam_data)
    scene.collection.objects.link(cam_obj)
    scene.camera = cam_obj
    _set_camera(cam_obj, cam)
    return cam_obj


def configure_photo_render(scene, width: int, height: int, samples: int, seed: int) -> bool:
    """Cycles on the CPU, adaptive sampling, OpenImageDenoise when built in, view transform Standard (plain sRGB).

    Returns whether the render is denoised.
    """
    import _cycles  # Cycles' own module says whether this build has OpenImageDenoise

    render = scene.render
    render.engine = "CYCLES"
    render.resolution_x, render.resolution_y = width, height
    render.resolution_percentage = 100
    render.pixel_aspect_x = render.pixel_aspect_y = 1.0
    render.film_transparent = False
    render.dither_intensity = 0.0  # the 8-bit photo is the plain quantised sRGB value
    render.use_persistent_data = True  # novel views reuse the BVH
    cy = scene.cycles
    cy.device = "CPU"
    cy.samples = samples
    cy.seed = seed % (2**31 - 1)
    cy.use_animated_seed = False
    cy.use_adaptive_sampling = True
    cy.adaptive_threshold = 0.02  # measured: a third less time than 0.01, no visible change after denoising
    cy.max_bounces, cy.diffuse_bounces, cy.glossy_bounces = 8, 4, 3
    cy.volume_bounces = 0
    cy.transmission_bounces = 2  # a window's glass pane (bench realistic); synth's rooms have no glass
    cy.transparent_max_bounces = 8  # glass pane + alpha-cut leaves
    cy.sample_clamp_indirect = 10.0
    cy.caustics_reflective = cy.caustics_refractive = False
    cy.use_denoising = bool(getattr(_cycles, "with_openimagedenoise", False))
    if cy.use_denoising:
        with quiet_blender():  # choosing a denoiser enumerates devices: a CUDA warning on machines without one
            cy.denoiser = "OPENIMAGEDENOISE"
    view = scene.view_settings
    scene.display_settings.display_device = "sRGB"
    view.view_transform = "Standard"  # not AgX: the photo must be plain sRGB of the linear render
    view.look = "None"
    view.exposure, view.gamma = 0.0, 1.0
    view.use_curve_mapping = False
    return bool(cy.use_denoising)


def _build_blender_scene(layout: Layout, samples: int) -> dict:
    """Build the layout as Blender data in a fresh, empty file; returns handles the renderer needs."""
    import bpy

    bpy.ops.wm.read_homefile(use_empty=True)
    scene = bpy.context.scene
    world = bpy.data.worlds.new("black")  # the room is closed; keep stray light out anyway
    world.color = (0.0, 0.0, 0.0)
    scene.world = world

    sx, sy, h = layout.room_size
    mat_cache: dict[int, object] = {}

    def surface_mat(sid: int):
        m = layout.surface_materials[sid]
        if id(m) not in mat_cache:
            mat_cache[id(m)] = _bpy_material(m)
        return mat_cache[id(m)]

    x0, x1, y0, y1 = -sx / 2, sx / 2, -sy / 2, sy / 2
    quads = {"-z": ([(x0, y0, 0), (x1, y0, 0), (x1, y1, 0), (x0, y1, 0)], (0, 0, 1)),
             "+z": ([(x0, y0, h), (x1, y0, h), (x1, y1, h), (x0, y1, h)], (0, 0, -1)),
             "-y": ([(x0, y0, 0), (x1, y0, 0), (x1, y0, h), (x0, y0, h)], (0, 1, 0)),
             "+x": ([(x1, y0, 0), (x1, y1, 0), (x1, y1, h), (x1, y0, h)], (-1, 0, 0)),
             "+y": ([(x0, y1, 0), (x1, y1, 0), (x1, y1, h), (x0, y1, h)], (0, -1, 0)),
             "-x": ([(x0, y0, 0), (x0, y1, 0), (x0, y1, h), (x0, y0, h)], (1, 0, 0))}
    for sid, label, side in layout.surfaces:
        corners, normal = quads[side]
        name = label if label != "wall" else f"wall{side}"
        _bpy_object(name, _quad_facing(np.array(corners, float), np.array(normal, float)), [(0, 1, 2, 3)], [0],
                    [surface_mat(sid)], sid)

    window_mat = None
    if (win := layout.window) is not None:
        wall = _walls(layout.room_size)[win.wall]
        n3 = np.r_[wall["normal"], 0.0]
        t3 = np.r_[wall["tangent"], 0.0]
        base = np.r_[wall["center"] + wall["tangent"] * win.offset, win.sill] + n3 * 0.001  # 1 mm off the wall
        ww, wh = win.size
        corners = np.array([base - t3 * ww / 2, base + t3 * ww / 2, base + t3 * ww / 2 + [0, 0, wh],
                            base - t3 * ww / 2 + [0, 0, wh]])
        window_mat = _bpy_emission("window", win.color, win.radiance)
        _bpy_object("window", _quad_facing(corners, n3), [(0, 1, 2, 3)], [0], [window_mat], win.segment_id)

    for p in layout.pieces:
        verts, faces, mat_index = [], [], []
        for part in p.parts:
            c, s = np.asarray(part.center), np.asarray(part.size) / 2
            k = len(verts)
            verts += [tuple(c + s * [(-1, 1)[i & 1], (-1, 1)[(i >> 1) & 1], (-1, 1)[(i >> 2) & 1]]) for i in range(8)]
            faces += [tuple(k + i for i in f) for f in _BOX_FACES]
            mat_index += [part.material] * 6
        mats = [_bpy_material(m) for m in p.materials]
        _bpy_object(f"{p.label.replace(' ', '_')}.{p.segment_id:02d}", verts, faces, mat_index, mats, p.segment_id,
                    tuple(p.center), p.yaw)

    lights = []
    for k, li in enumerate(layout.lights):
        data = bpy.data.lights.new(f"ceiling_light.{k}", "AREA")
        data.shape = "RECTANGLE"
        data.size, data.size_y = li.size
        data.energy = li.power_w
        data.color = li.color
        obj = bpy.data.objects.new(data.name, data)
        obj.location = tuple(li.position)  # an area light faces its local -Z: down
        obj.visible_camera = False  # a ceiling panel seen in the photo would not be in the segmentation
        scene.collection.objects.link(obj)
        lights.append(data)

    cam_obj = _add_camera(scene, layout.camera)
    denoise = configure_photo_render(scene, layout.camera.width, layout.camera.height, samples, layout.seed)
    bpy.context.view_layer.update()
    return {"scene": scene, "camera": cam_obj, "lights": lights, "window_mat": window_mat, "denoise": denoise}


def _render_linear(handles: dict, path: Path, width: int, height: int, samples: int) -> np.ndarray:
    """A small linear (EXR) render, read back as an HxWx3 array (row 0 at the top)."""
    import bpy

    scene = handles["scene"]
    render, cy = scene.render, scene.cycles
    saved = (render.resolution_x, render.resolution_y, cy.samples, cy.use_denoising, render.filepath)
    render.resolution_x, render.resolution_y, cy.samples, cy.use_denoising = width, height, samples, False
    fmt = render.image_settings
    fmt.file_format, fmt.color_mode, fmt.color_depth = "OPEN_EXR", "RGB", "32"
    render.filepath = str(path)
    with quiet_blender():
        bpy.ops.render.render(write_still=True)
    img = bpy.data.images.load(str(path))
    px = np.empty(width * height * 4, np.float32)
    img.pixels.foreach_get(px)
    bpy.data.images.remove(img)
    path.unlink()
    render.resolution_x, render.resolution_y, cy.samples, cy.use_denoising, render.filepath = saved
    return px.reshape(height, width, 4)[::-1, :, :3]


def _balance_lights(layout: Layout, handles: dict, tmp: Path) -> None:
    """Scale the ceiling lights (and a too bright window) so the photo's mean luminance hits the layout's target.

    The image is linear in each emitter's power, so one tiny render per emitter group gives the answer.
    """
    cam = layout.camera
    cw = 64
    ch = max(8, round(cw * cam.height / cam.width))
    lum_w = np.array([0.2126, 0.7152, 0.0722])
    _, seg = trace_layout(layout, cam, cw, ch)
    keep = seg != (layout.window.segment_id if layout.window else -1)
    win_mat = handles["window_mat"]
    window_lum = np.zeros((ch, cw))
    if win_mat is not None:
        for light in handles["lights"]:
            light.energy = 0.0
        window_lum = _render_linear(handles, tmp / "calib_window.exr", cw, ch, 16) @ lum_w
        win_mat.node_tree.nodes["Emission"].inputs["Strength"].default_value = 0.0
    for light, li in zip(handles["lights"], layout.lights, strict=True):
        light.energy = li.power_w
    ceiling_lum = _render_linear(handles, tmp / "calib_ceiling.exr", cw, ch, 16) @ lum_w
    target = layout.exposure_target
    mean_w, mean_c = float(window_lum[keep].mean()), max(float(ceiling_lum[keep].mean()), 1e-6)
    if mean_w > 0.7 * target:  # a window that alone lights the room too much is dimmed
        dim = 0.7 * target / mean_w
        layout.window.radiance *= dim
        window_lum, mean_w = window_lum * dim, mean_w * dim
    scale = (target - mean_w) / mean_c
    # Keep highlights (walls right under a lamp) from clipping: the 97th percentile stays below 0.9.
    lo, hi = 0.0, scale
    if np.percentile((scale * ceiling_lum + window_lum)[keep], 97) > 0.9:
        for _ in range(30):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if np.percentile((mid * ceiling_lum + window_lum)[keep], 97) <= 0.9 else (lo, mid)
        scale = lo
    scale = max(scale, 0.25 * target / mean_c)
    for light, li in zip(handles["lights"], layout.lights, strict=True):
        li.power_w *= scale
        light.energy = li.power_w
    if win_mat is not None:
        win_mat.node_tree.nodes["Emission"].inputs["Strength"].default_value = layout.window.radiance


def _render_photo(handles: dict, cam: Camera, path: Path) -> None:
    import bpy
    from PIL import Image

    scene = handles["scene"]
    _set_camera(handles["camera"], cam)
    fmt = scene.render.image_settings
    fmt.file_format, fmt.color_mode, fmt.color_depth, fmt.compression = "PNG", "RGB", "8", 90
    scene.render.filepath = str(path)
    with quiet_blender():
        bpy.ops.render.render(write_still=True)
    # Cycles stamps its render times into the PNG; re-save the pixels alone so a seed gives the same bytes.
    with Image.open(path) as im:
        pixels = im.convert("RGB")
    pixels.save(path, optimize=True)


def _raycast_blender(layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Depth and segment ids at the pixel centres, ray cast through the meshes Blender built.

    Rays that slip through a crack between two triangles (none expected) take the analytic answer instead.
    """
    import bpy
    from mathutils.bvhtree import BVHTree

    verts, polys, poly_seg = [], [], []
    for obj in bpy.context.scene.objects:
        if obj.type != "MESH":
            continue
        mw = np.array(obj.matrix_world)
        co = np.empty(len(obj.data.vertices) * 3)
        obj.data.vertices.foreach_get("co", co)
        world = co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]
        k = len(verts)
        verts += world.tolist()
        for poly in obj.data.polygons:
            polys.append([k + v for v in poly.vertices])
            poly_seg.append(obj["segment_id"])
    bvh = BVHTree.FromPolygons(verts, polys, epsilon=0.0)
    poly_seg = np.asarray(poly_seg, np.uint16)

    cam = layout.camera
    dirs = (_pixel_rays(cam.fov_y_deg, cam.width, cam.height).reshape(-1, 3) @ cam.rotation.T).tolist()
    origin = cam.position.tolist()
    forward = -cam.rotation[:, 2]
    loc = np.full((len(dirs), 3), np.nan)
    index = np.zeros(len(dirs), np.int64)
    for k, d in enumerate(dirs):
        hit, _, idx, _ = bvh.ray_cast(origin, d)
        if hit is not None:
            loc[k], index[k] = hit, idx
    depth = (loc - cam.position) @ forward
    seg = poly_seg[index]
    depth_a, seg_a = trace_layout(layout, cam, cam.width, cam.height)
    missed = np.isnan(depth)
    depth[missed], seg[missed] = depth_a.ravel()[missed], seg_a.ravel()[missed]
    disagree = float(np.mean(seg != seg_a.ravel()))
    if disagree > 0.005:
        raise RuntimeError(f"synth: Blender's geometry and the layout disagree on {disagree:.1%} of the pixels")
    return depth.reshape(cam.height, cam.width).astype(np.float32), seg.reshape(cam.height, cam.width)
