"""The full Mitsuba scene of a Scene: room faces, object parts with their UVs, materials, lights.

One construction (`scene_dict`) serves two uses: the material+light stage renders it in memory (meshes as
`mi.Mesh`, textures as arrays, parameters it can differentiate), and `export/mitsuba_xml.py` writes the same dict
as XML through Mitsuba's own writer (meshes as PLY files, textures as EXR files).

Conventions that make the Mitsuba render match Blender's:
- Room faces get the corners and metric UVs of the add-on's room builder; object parts their OBJ UVs.
- Blender meshes built from polygons are flat shaded: every mesh here uses face normals.
- Blender shades both sides of a face: object BSDFs are two-sided (room faces face inward anyway).
- UVs are flipped (v -> 1 - v) as Mitsuba's OBJ loader does, so image-oriented maps (row 0 = top, v near 1:
  the materials_db twins' layout) land the right way up.
- A texture transform chosen by the stage (scale s, rotation t about the UV origin) is applied to the mesh UVs:
  uv' = R(t) (s uv), which is what the Mapping node the stage puts in front of a graph does in Blender.
- Area lights: Blender's area light of power P over area A has radiance P / (pi A) along its local -Z.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from blender_addon.scene_format import (CAMERA_ONLY_PARTS, ROOM_FACES, Quad, exposure_scale, opening_quads, read_obj,
                                       room_face_name, room_face_quads)

from pipeline.core import interrupt
from pipeline.core.scene import Camera, Light, Object, Room, Scene
from .room_masks import sensor_dict


@dataclass
class Surface:
    """One mesh of the scene in world space, with its material and UVs (metric, OBJ convention: v up)."""

    name: str
    material: str
    vertices: np.ndarray  # (N, 3)
    faces: np.ndarray  # (M, 3) int
    uvs: np.ndarray  # (N, 2)
    owner: str  # room face name, or object name
    part: str = ""  # object part name, or an opening's part ("" for room faces)
    two_sided: bool = True
    # False: seen by the camera only (a window's backdrop, `scene_format.CAMERA_ONLY_PARTS`), as in Blender: its
    # emission lights nothing and, with a sun, it stops no light either (`scene_dict`)
    lights_room: bool = True


UNIT_RECT = (0.0, 0.0, 1.0, 1.0)


@dataclass
class MaterialMaps:
    """What the renderer needs of one material: constants or image-oriented maps over one UV tile."""

    base_color: np.ndarray  # (3,) or (H, W, 3), linear
    roughness: np.ndarray | float = 0.5  # float or (H, W)
    metallic: float = 0.0
    uv_scale: float = 1.0
    uv_rotation_deg: float = 0.0
    # linear RGB radiance: the surface is an area emitter (lamps); (H, W, 3): a picture over the unit UV square,
    # image-oriented (a window's backdrop)
    emission: np.ndarray | None = None
    # The rectangle (u0, v0, width, height) of transformed UV space the maps cover (`uv_rect`); they repeat with its
    # period, so a rectangle spanning every surface of the material shows what Blender evaluates there.
    uv_rect: tuple[float, float, float, float] = UNIT_RECT

    @property
    def textured(self) -> bool:
        return np.ndim(self.base_color) == 3 or np.ndim(self.roughness) == 2


@dataclass
class RenderSettings:
    width: int
    height: int
    spp: int = 16
    max_depth: int = 6
    integrator: str = "prb"
    crop: tuple[int, int, int, int] | None = None  # (x, y, w, h) of the film, for crop renders
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------------------
# Geometry


def room_face_corners(room: Room, face: str) -> np.ndarray:
    """World corners (4x3) of a room face, normal into the room, in the order the add-on's room builder uses
    (so UVs, and textures with them, match between Mitsuba and Blender)."""
    return np.asarray(room.face_corners(face), dtype=np.float64)


def quads_mesh(quads: list[Quad]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vertices, triangles, uvs) of planar quads (scene_format.Quad), two triangles each, winding kept."""
    verts = np.array([c for q in quads for c in q.corners], float).reshape(-1, 3)
    uvs = np.array([uv for q in quads for uv in q.uvs], float).reshape(-1, 2)
    base = 4 * np.arange(len(quads))[:, None]
    tris = np.concatenate([base + [0, 1, 2], base + [0, 2, 3]]).astype(np.int64).reshape(-1, 3)
    return verts, tris, uvs


def room_surfaces(room: Room) -> list[Surface]:
    """The room's faces (with their openings' holes cut) and the openings' parts, from the quads the add-on
    builds too (scene_format.room_face_quads, opening_quads): both renderers see the same geometry. A window's
    glass is left out: Blender's is a see-through pane that casts no shadow, which is no surface at all here.
    Opening parts are owned by their kind ('window', 'door'), the segmentation label their pixels carry; a
    window's backdrop is seen by the camera only (its emission lights nothing: the window's light does)."""
    out = []
    for face in ROOM_FACES:
        verts, tris, uvs = quads_mesh(room_face_quads(room, face))
        out.append(Surface(room_face_name(face), room.materials.get(face, ""), verts, tris, uvs, face,
                           two_sided=False))
    for opening in room.openings or []:
        by_part: dict[str, list[Quad]] = {}
        for quad in opening_quads(room, opening):
            if quad.part != "glass":
                by_part.setdefault(quad.part, []).append(quad)
        for part, quads in by_part.items():
            verts, tris, uvs = quads_mesh(quads)
            out.append(Surface(f"{opening.name}.{part}", quads[0].material, verts, tris, uvs, opening.kind, part,
                               lights_room=part not in CAMERA_ONLY_PARTS))
    return out


def parse_obj(text: str, where: str = "OBJ") -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(vertices, triangles, per-vertex uvs or None) of an OBJ read by the shared reader (scene_format.read_obj);
    polygons are fan-triangulated and corners with distinct UVs get their own vertex."""
    obj = read_obj(text, where)
    has_uv = obj.has_uvs and bool(obj.faces)
    key_index: dict[tuple[int, int], int] = {}
    verts, uvs, tris = [], [], []
    for poly, poly_uv in zip(obj.faces, obj.face_uvs):
        corners = list(zip(poly, poly_uv if has_uv else [-1] * len(poly)))
        for k in range(1, len(corners) - 1):  # fan triangulation
            out = []
            for vi, ti in (corners[0], corners[k], corners[k + 1]):
                if (vi, ti) not in key_index:
                    key_index[(vi, ti)] = len(verts)
                    verts.append(obj.vertices[vi])
                    uvs.append(obj.uvs[ti] if has_uv else (0.0, 0.0))
                out.append(key_index[(vi, ti)])
            tris.append(out)
    return (np.asarray(verts, float).reshape(-1, 3), np.asarray(tris, np.int64).reshape(-1, 3),
            np.asarray(uvs, float).reshape(-1, 2) if has_uv else None)


def object_matrix(obj: Object) -> np.ndarray:
    """4x4 world-from-model of a scene.json object (location, yaw about +Z, per-axis scale): as the add-on."""
    return np.asarray(obj.matrix(), dtype=np.float64)


def planar_uvs(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Metric box-projection UVs for meshes without any (per vertex; the dominant axis of adjacent faces)."""
    n = np.zeros_like(vertices)
    fn = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    for k in range(3):
        np.add.at(n, faces[:, k], np.abs(fn))
    axis = np.argmax(n, axis=1)
    uv = np.where((axis == 2)[:, None], vertices[:, [0, 1]],
                  np.where((axis == 1)[:, None], vertices[:, [0, 2]], vertices[:, [1, 2]]))
    return uv


def object_surfaces(scene: Scene, read: Callable[[str], bytes] | None = None) -> list[Surface]:
    """Object parts, their meshes read with `read` (a bundle file's bytes by its relative path)."""
    out = []
    for obj in scene.objects:
        m = object_matrix(obj)
        for part in obj.parts:
            if read is None:
                raise FileNotFoundError(f"{part.mesh}: no bundle files to read the scene's meshes from")
            verts, faces, uvs = parse_obj(read(part.mesh).decode("utf-8"), part.mesh)
            if len(faces) == 0:
                continue
            if uvs is None:
                uvs = planar_uvs(verts, faces)
            world = verts @ m[:3, :3].T + m[:3, 3]
            out.append(Surface(f"{obj.name}.{part.name}", part.material or "", world, faces, uvs,
                               obj.name, part.name, two_sided=True))
    return out


def scene_surfaces(scene: Scene, read: Callable[[str], bytes] | None = None) -> list[Surface]:
    """Room faces then object parts (their meshes read with `read`, e.g. `BundleFiles.read`)."""
    return (room_surfaces(scene.room) if scene.room is not None else []) + object_surfaces(scene, read)


def material_uvs(uvs: np.ndarray, scale: float, rotation_deg: float) -> np.ndarray:
    """uv' = R(t) (s uv) of UVs (..., 2): what a material's node tree sees (in Blender, through the stage's
    Mapping node)."""
    t = math.radians(rotation_deg)
    c, s = math.cos(t), math.sin(t)
    u, v = uvs[..., 0], uvs[..., 1]
    return np.stack([scale * (c * u - s * v), scale * (s * u + c * v)], axis=-1)


def transformed_uvs(uvs: np.ndarray, scale: float, rotation_deg: float,
                    rect: tuple[float, float, float, float] = UNIT_RECT) -> np.ndarray:
    """Mitsuba texture coordinates: uv' placed in the maps' rectangle, then v flipped for Mitsuba's texture lookup
    (see the module docstring)."""
    uv = material_uvs(uvs, scale, rotation_deg)
    a, b = (uv[:, 0] - rect[0]) / rect[2], (uv[:, 1] - rect[1]) / rect[3]
    return np.stack([a, 1.0 - b], axis=1)


def uv_rect(surfaces: list[Surface], scale: float, rotation_deg: float) -> tuple[float, float, float, float]:
    """The rectangle of whole UV tiles that the surfaces' uv' span (u0, v0, width, height): where Blender evaluates
    their material. Most node trees are not periodic (Perlin noise, per-brick and per-cell randomness differ from
    one tile to the next), so maps of this rectangle, not one repeated tile, render what Blender renders."""
    if not surfaces:
        return UNIT_RECT
    uv = np.concatenate([material_uvs(np.asarray(s.uvs, float), scale, rotation_deg) for s in surfaces])
    lo = np.floor(uv.min(0) + 1e-6)  # UVs a rounding error past a tile's edge do not add a tile
    hi = np.maximum(np.ceil(uv.max(0) - 1e-6), lo + 1.0)
    return (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]))


# ---------------------------------------------------------------------------------------------------------------
# Materials and lights


# Directional albedo of a GGX dielectric lobe (IOR 1.5), averaged over cosine-weighted view directions, per
# roughness 0, 0.1, ..., 1 (alpha = roughness^2), integrated with Mitsuba's roughconductor (eta 1.5, k 0).
SPEC_ALBEDO = (0.0921, 0.0915, 0.0875, 0.0795, 0.0692, 0.0585, 0.0484, 0.0393, 0.0313, 0.0243, 0.0186)


def spec_albedo(roughness, xp=np):
    """Mean albedo of the specular lobe at `roughness` (numpy or torch arrays)."""
    r = xp.clip(roughness, 0.0, 1.0) * 10.0 if xp is np else roughness.clamp(0.0, 1.0) * 10.0
    if xp is np:
        return np.interp(r, np.arange(11), SPEC_ALBEDO)
    table = xp.tensor(SPEC_ALBEDO, dtype=r.dtype)
    i = r.floor().clamp(0, 9).long()
    f = r - i.to(r.dtype)
    return table[i] * (1 - f) + table[i + 1] * f


def diffuse_weight(base_color, roughness, xp=np):
    """Reflectance handed to the diffuse lobe: base colour times what the specular layer leaves (1 - E), times 2
    because the lobes are combined by a 50/50 `blendbsdf` (Mitsuba has no additive BSDF)."""
    e = spec_albedo(roughness, xp)
    if np.ndim(base_color) == 3 or (xp is not np and base_color.dim() == 3):
        e = e[..., None]
    return 2.0 * base_color * (1.0 - e)


def _bitmap(arr: np.ndarray) -> dict:
    """A raw (linear, unclamped) repeating bilinear bitmap; constants are 2x2 bitmaps so every material has the
    same parameters and values above 1 (the 2x of the blend) pass Mitsuba's reflectance range check."""
    import mitsuba as mi

    a = np.asarray(arr, np.float32)
    if a.ndim <= 1:  # Mitsuba refuses to update bitmaps below 2x2
        a = np.broadcast_to(a.reshape(1, 1, -1), (2, 2, a.size))
    elif a.ndim == 2:
        a = a[..., None]
    return {"type": "bitmap", "data": mi.TensorXf(np.ascontiguousarray(a)), "raw": True,
            "filter_type": "bilinear", "wrap_mode": "repeat"}


def emission_radiance(emission: np.ndarray) -> dict:
    """An area emitter's radiance: one RGB value, or a picture (bilinear, clamped at its edges)."""
    if np.ndim(emission) == 3:
        return {**_bitmap(emission), "wrap_mode": "clamp"}
    return {"type": "rgb", "value": [float(x) for x in emission]}


def emission_at(emission: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """(N, 3) radiance of an emitter (`emission_radiance`) at N Mitsuba texture coordinates: its RGB value, or its
    picture looked up as Mitsuba does (bilinear, clamped)."""
    if np.ndim(emission) != 3:
        return np.broadcast_to(np.asarray(emission, np.float32)[:3], (len(uv), 3)).copy()
    h, w = emission.shape[:2]
    x = np.clip(uv[:, 0] * w - 0.5, 0, w - 1)
    y = np.clip(uv[:, 1] * h - 0.5, 0, h - 1)
    x0, y0 = np.minimum(x.astype(int), max(w - 2, 0)), np.minimum(y.astype(int), max(h - 2, 0))
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    e = np.asarray(emission, np.float32)
    return ((1 - fx) * (1 - fy) * e[y0, x0] + fx * (1 - fy) * e[y0, x1] + (1 - fx) * fy * e[y1, x0]
            + fx * fy * e[y1, x1]).astype(np.float32)


def bsdf_dict(mat: MaterialMaps) -> dict:
    """Blender's Principled BSDF (dielectric IOR 1.5 + metallic) from Mitsuba's own plugins, differentiable in
    base colour and roughness:

    dielectric = 1/2 diffuse(2 rho (1 - E(r))) + 1/2 roughconductor(GGX, alpha = r^2, eta 1.5, k 0, x2),
    the whole = (1 - metallic) dielectric + metallic roughconductor(GGX, F0 = base colour).

    Measured against Cycles (docs/materials_lights.md): Mitsuba's `principled` (Disney diffuse with
    retro-reflection) renders ~9 % brighter than Blender's; this layering is within ~2 %."""
    base = np.asarray(mat.base_color, np.float32)
    rough = np.asarray(mat.roughness, np.float32)
    alpha = np.maximum(rough, 0.02) ** 2
    dielectric = {
        "type": "blendbsdf", "weight": 0.5,
        "bsdf_0": {"type": "diffuse", "reflectance": _bitmap(diffuse_weight(base, rough))},
        "bsdf_1": {"type": "roughconductor", "distribution": "ggx", "alpha": _bitmap(alpha), "eta": 1.5, "k": 0.0,
                   "specular_reflectance": {"type": "uniform", "value": 2.0}},
    }
    if mat.metallic <= 0.0:
        return dielectric
    metal = {"type": "roughconductor", "distribution": "ggx", "material": "none",
             "alpha": _bitmap(alpha), "specular_reflectance": _bitmap(base)}
    return {"type": "blendbsdf", "weight": float(np.clip(mat.metallic, 0.0, 1.0)), "bsdf_0": dielectric,
            "bsdf_1": metal}


def is_sphere(light: Light) -> bool:
    """A point light with a radius: a sphere of light (Blender's point light with Radius, Mitsuba's sphere)."""
    return light.type == "point" and bool(light.radius)


def light_area(light: Light) -> float:
    """The emitting area, m^2: an area light's rectangle, a sphere light's surface (4 pi r^2)."""
    if is_sphere(light):
        return 4.0 * math.pi * float(light.radius) ** 2
    sx, sy = light.size[:2]
    return float(sx * sy)


def light_radiance(light: Light) -> np.ndarray:
    """Linear RGB radiance of a Blender area or sphere light: colour * P / (pi * A), A its emitting area (a
    diffuse emitter of radiance L sends pi L per unit area). A sun's is its irradiance: Blender's Sun strength is
    in W/m^2, Mitsuba's `directional` irradiance the same quantity."""
    if light.type == "sun":
        return np.asarray(light.color, float) * light.power_w
    return np.asarray(light.color, float) * light.power_w / (math.pi * max(light_area(light), 1e-9))


def light_power(radiance_rgb: np.ndarray, area: float) -> tuple[float, list[float]]:
    """(power_w, colour) of a Blender area or sphere light of emitting `area` (`light_area`) with this RGB
    radiance: P = L * pi * A, colour's max = 1."""
    rad = np.maximum(np.asarray(radiance_rgb, float), 0.0)
    peak = float(rad.max())
    if peak <= 0:
        return 0.0, [1.0, 1.0, 1.0]
    return peak * math.pi * float(area), [float(c) for c in rad / peak]


def light_watts(light: Light, radiance_rgb: np.ndarray) -> tuple[float, list[float]]:
    """(power_w, colour) of `light` emitting `radiance_rgb` (`light_radiance`'s inverse): watts for area and
    sphere lights (`light_power`), W/m^2 for a sun (its strength in Blender)."""
    if light.type == "sun":
        rad = np.maximum(np.asarray(radiance_rgb, float), 0.0)
        peak = float(rad.max())
        return (peak, [float(c) for c in rad / peak]) if peak > 0 else (0.0, [1.0, 1.0, 1.0])
    return light_power(radiance_rgb, light_area(light))


def sun_direction(light: Light) -> np.ndarray:
    """The direction a sun's light travels: its local -Z (Blender's lights shine along -Z)."""
    d = -np.asarray(light.rotation, float)[:, 2]
    return d / max(float(np.linalg.norm(d)), 1e-12)


VOLUMETRIC = ("volpath", "prbvolpath")  # the tracers whose shadow rays pass null surfaces


def path_tracer(lights: list[Light], differentiable: bool = True) -> str:
    """The integrator for a scene with these lights. Mitsuba's path tracers stop a shadow ray at any surface,
    a window's light panel (`null` BSDF) included, so a sun could not shine through its window; the volumetric
    ones pass null surfaces (as Blender's light objects are not geometry at all). Without a sun the plain ones
    give the same picture for less."""
    if any(li.type == "sun" for li in lights):
        return "prbvolpath" if differentiable else "volpath"
    return "prb" if differentiable else "path"


def light_matrix(light: Light) -> np.ndarray:
    """to_world of a Mitsuba rectangle (spans [-1, 1]^2, emits along +Z) matching a Blender area light (-Z).

    Rotating 180 degrees about the light's X flips Z without a mirror (the rectangle is symmetric in Y)."""
    rot = np.asarray(light.rotation, float) @ np.diag([1.0, -1.0, -1.0])
    sx, sy = light.size[:2]
    m = np.eye(4)
    m[:3, :3] = rot @ np.diag([sx / 2, sy / 2, 1.0])
    m[:3, 3] = light.position
    return m


def light_dict(light: Light, radiance: np.ndarray | None = None, scale: float = 1.0) -> dict:
    """A Blender light as a Mitsuba emitter. A sun is a `directional` emitter (`path_tracer` says how it passes
    the window panels). Area lights are rectangles (point lights with a radius, spheres) with
    Mitsuba's `null` BSDF: Blender's
    lights are not geometry, so light reflected towards the ceiling behind a panel passes through it (a black
    panel would leave a dark patch on the ceiling above it). Shadow rays still stop at panels (Mitsuba's path
    tracers do not trace through null surfaces for next-event estimation); panels lie against the room's faces,
    where that rarely matters. `scale` converts the light's watts to render units (1 / the camera's exposure
    scale); an explicit `radiance` is in render units already."""
    import mitsuba as mi

    rad = light_radiance(light) * scale if radiance is None else np.asarray(radiance, float)
    emitter = {"type": "area", "radiance": {"type": "rgb", "value": [float(x) for x in rad]}}
    if light.type == "area":
        return {"type": "rectangle", "to_world": mi.ScalarTransform4f(light_matrix(light).tolist()),
                "emitter": emitter, "bsdf": {"type": "null"}}
    if is_sphere(light):  # a lamp's bulb: as differentiable as a panel (its radiance is the same parameter)
        return {"type": "sphere", "center": [float(x) for x in light.position], "radius": float(light.radius),
                "emitter": emitter, "bsdf": {"type": "null"}}
    if light.type == "sun":
        irr = light_radiance(light) * scale if radiance is None else np.asarray(radiance, float)
        return {"type": "directional", "direction": [float(x) for x in sun_direction(light)],
                "irradiance": {"type": "rgb", "value": [float(x) for x in irr]}}
    colour = np.asarray(light.color, float)
    return {"type": "point", "position": [float(x) for x in light.position],
            "intensity": {"type": "rgb",
                          "value": [float(x) for x in colour * light.power_w * scale / (4 * math.pi)]}}


def sensor(camera: Camera, width: int, height: int, spp: int, crop=None) -> dict:
    """Sensor matching the Blender camera at another resolution (box filter: pixels are area averages)."""
    cam = Camera(camera.position, camera.rotation, camera.fov_y_deg, width, height)
    d = sensor_dict(cam, width, height, spp)
    if crop is not None:
        x, y, w, h = crop
        d["film"].update(crop_offset_x=int(x), crop_offset_y=int(y), crop_width=int(w), crop_height=int(h))
    return d


def integrator_dict(settings: RenderSettings) -> dict:
    return {"type": settings.integrator, "max_depth": int(settings.max_depth), **settings.extra}


# ---------------------------------------------------------------------------------------------------------------
# The one construction


def _mesh(surface: Surface, mat: MaterialMaps, bsdf, emitter=None):
    """An in-memory Mitsuba mesh (flat shaded) with the material's UV transform and map rectangle applied."""
    import drjit as dr
    import mitsuba as mi

    props = mi.Properties()
    props["face_normals"] = True
    if bsdf is not None:
        props["bsdf"] = bsdf
    if emitter is not None:
        props["emitter"] = emitter
    v = np.asarray(surface.vertices, np.float32)
    f = np.asarray(surface.faces, np.uint32)
    mesh = mi.Mesh(surface.name, len(v), len(f), props, has_vertex_normals=False, has_vertex_texcoords=True)
    params = mi.traverse(mesh)
    params["vertex_positions"] = dr.ravel(mi.Point3f(v[:, 0], v[:, 1], v[:, 2]))
    params["faces"] = dr.ravel(mi.Vector3u(f[:, 0], f[:, 1], f[:, 2]))
    uv = transformed_uvs(surface.uvs, mat.uv_scale, mat.uv_rotation_deg, mat.uv_rect).astype(np.float32)
    params["vertex_texcoords"] = dr.ravel(mi.Point2f(uv[:, 0], uv[:, 1]))
    params.update()
    return mesh


def material_id(name: str) -> str:
    """A Mitsuba object id for a material name (ids must not contain dots: parameter paths use them)."""
    return "mat_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def light_id(index: int) -> str:
    return f"light_{index:02d}"


def scene_dict(scene: Scene, materials: dict[str, MaterialMaps], settings: RenderSettings,
               surfaces: list[Surface] | None = None, lights: list[Light] | None = None,
               radiances: list[np.ndarray] | None = None, files: Path | None = None,
               read: Callable[[str], bytes] | None = None) -> dict:
    """The Mitsuba scene dict of `scene`.

    In memory (`files=None`): meshes are mi.Mesh objects sharing one loaded BSDF per material, textures are arrays
    (parameters `mat_X.base_color.data`, `mat_X.base_color.value`, `light_NN.emitter.radiance.value`, ...).
    With `files`: meshes are written there as PLY and textures as EXR, and the dict only names them, so
    `mi.parser` can write it as XML. Without `surfaces`, the objects' meshes are read with `read`."""
    import mitsuba as mi

    surfaces = scene_surfaces(scene, read) if surfaces is None else surfaces
    lights = list(scene.lights) if lights is None else lights
    cam = scene.camera
    d: dict = {"type": "scene", "integrator": integrator_dict(settings),
               "sensor": sensor(cam, settings.width, settings.height, settings.spp, settings.crop)}
    default = MaterialMaps(np.array([0.5, 0.5, 0.5]), 0.5)
    passes_null = settings.integrator in VOLUMETRIC
    loaded: dict[str, object] = {}
    for name in sorted({s.material for s in surfaces}):
        mat = materials.get(name, default)
        bd = bsdf_dict(mat)
        if files is not None:
            bd = _texture_files(bd, files, material_id(name))
            d[material_id(name)] = {"type": "twosided", "id": material_id(name), "bsdf": bd}
        else:
            loaded[name] = mi.load_dict({"type": "twosided", "id": material_id(name), "bsdf": bd})
    for s in surfaces:
        mat = materials.get(s.material, default)
        emitter = None
        if mat.emission is not None and s.lights_room:
            emitter = {"type": "area", "radiance": emission_radiance(mat.emission)}
        # With a sun (the volumetric tracers, `path_tracer`), a camera-only surface (a window's backdrop) is
        # `null` to light so the sun shines past it; the camera's picture of it is composited from its emission
        # where the shape-index pass finds it (`photo_score`, `emission_at`). The plain tracers drop an emitter's
        # light seen through a null surface that leads nowhere (a window panel before a null backdrop), so
        # without a sun the backdrop keeps its black BSDF.
        null = not s.lights_room and passes_null
        if files is None:
            bsdf = mi.load_dict({"type": "null"}) if null else loaded[s.material]
            d[_shape_key(s.name)] = _mesh(s, mat, bsdf, mi.load_dict(emitter) if emitter else None)
        else:
            mesh = _mesh(s, mat, None)
            rel = f"meshes/{_shape_key(s.name)}.ply"
            (files / "meshes").mkdir(parents=True, exist_ok=True)
            mesh.write_ply(str(files / rel))
            entry = {"type": "ply", "filename": rel, "face_normals": True,
                     "bsdf": {"type": "null"} if null else {"type": "ref", "id": material_id(s.material)}}
            if emitter:
                entry["emitter"] = _texture_files(emitter, files, f"{material_id(s.material)}_emission")
            d[_shape_key(s.name)] = entry
    for i, light in enumerate(lights):
        ld = light_dict(light, None if radiances is None else radiances[i], 1.0 / exposure_scale(scene.camera))
        if files is None and ld["type"] in ("rectangle", "sphere"):
            ld["id"] = light_id(i)
        d[light_id(i)] = ld
    return d


def _shape_key(name: str) -> str:
    return "shape_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def _texture_files(bd: dict, folder: Path, stem: str) -> dict:
    """Replace in-memory bitmaps (at any depth) by EXR files named after their path (for the XML)."""
    import mitsuba as mi

    out = {}
    for key, value in bd.items():
        if isinstance(value, dict) and value.get("type") == "bitmap" and "data" in value:
            rel = f"textures/{stem}_{key}.exr"
            (folder / "textures").mkdir(parents=True, exist_ok=True)
            mi.Bitmap(np.array(value["data"], np.float32)).write(str(folder / rel))
            out[key] = {k: v for k, v in value.items() if k != "data"} | {"filename": rel}
        elif isinstance(value, dict):
            out[key] = _texture_files(value, folder, f"{stem}_{key}")
        else:
            out[key] = value
    return out


def load_scene(d: dict):
    import mitsuba as mi

    return mi.load_dict(d, optimize=False)  # a repeatable shape and emitter order (render/determinism.py)


def render_numpy(mscene, spp: int | None = None, seed: int = 0) -> np.ndarray:
    """A plain (non-differentiable) render as an HxWx3 float32 array."""
    import mitsuba as mi

    interrupt.check()  # a requested stop before the next native render (core/interrupt.py)
    img = mi.render(mscene, spp=spp, seed=seed) if spp else mi.render(mscene, seed=seed)
    return np.array(img, dtype=np.float32)[..., :3]
