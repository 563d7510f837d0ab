"""Mesh helpers shared by the sources: box-projected UVs, part extraction, normalisation to the canonical frame.

Canonical frame (what `load_mesh` returns): metres, Z up, the model's front towards -Y (Blender's convention,
and what Blender's glTF importer makes of glTF's +Z front), origin at the bottom centre of the bounding box.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import trimesh

Parts = dict[str, trimesh.Trimesh]

# Y-up (glTF, most OBJ exports, 3D-FUTURE) to Z-up, as Blender's importers do: (x, y, z) -> (x, -z, y).
Y_UP_TO_Z_UP = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=float)


def box_uv(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """A copy of `mesh` with box-projected UVs in metres (1 UV unit = 1 m), so a texture's scale is real-world.

    Each face is projected along its dominant normal axis; signs are chosen so no side is mirrored."""
    faces = np.asarray(mesh.faces)
    corners = np.asarray(mesh.vertices)[faces]  # (F, 3, 3)
    normals = np.asarray(mesh.face_normals)
    axis = np.abs(normals).argmax(axis=1)
    sign = np.sign(normals[np.arange(len(faces)), axis])
    sign[sign == 0] = 1
    x, y, z = corners[..., 0], corners[..., 1], corners[..., 2]
    s = sign[:, None]
    u = np.where((axis == 0)[:, None], s * y, np.where((axis == 1)[:, None], -s * x, x))
    v = np.where((axis == 2)[:, None], s * y, z)
    uv = np.stack([u, v], axis=-1).reshape(-1, 2)
    out = trimesh.Trimesh(
        vertices=corners.reshape(-1, 3),
        faces=np.arange(len(faces) * 3).reshape(-1, 3),
        visual=trimesh.visual.TextureVisuals(uv=uv, material=getattr(mesh.visual, "material", None)),
        process=False,
    )
    out.merge_vertices()  # shared corners with equal UVs only: seams stay split
    return out


def set_color(mesh: trimesh.Trimesh, name: str, color: tuple[float, float, float]) -> trimesh.Trimesh:
    """Give `mesh` a named PBR material of one base colour (linear RGB 0..1), keeping its UVs."""
    uv = getattr(mesh.visual, "uv", None)
    rgba = (np.clip(np.array([*color, 1.0]), 0, 1) * 255).astype(np.uint8)
    material = trimesh.visual.material.PBRMaterial(name=name, baseColorFactor=rgba, roughnessFactor=0.8)
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    return mesh


def face_colors(mesh: trimesh.Trimesh, fallback: tuple[float, float, float] = (0.6, 0.6, 0.6)) -> np.ndarray:
    """(F, 3) base colour of each face (linear RGB 0..1): the texture sampled at the face's UV centroid times the
    material factor, else vertex or face colours, else the material factor, else `fallback`.

    Sampled per face, not averaged over the image: a palette atlas (KayKit) is one texture shared by a whole
    pack, and only the UVs say which of its colours a model wears."""
    n = len(mesh.faces)
    visual = mesh.visual
    try:
        if isinstance(visual, trimesh.visual.TextureVisuals) and visual.material is not None:
            mat = visual.material
            image = getattr(mat, "image", None) or getattr(mat, "baseColorTexture", None)
            factor = getattr(mat, "baseColorFactor", None)
            if factor is None:
                factor = getattr(mat, "diffuse", None)
            rgb = np.ones((n, 3))
            if factor is not None:
                rgb = rgb * np.asarray(factor, dtype=float)[:3] / 255.0
            uv = getattr(visual, "uv", None)
            if image is not None and uv is not None and len(uv) == len(mesh.vertices):
                texels = np.asarray(image.convert("RGB"), dtype=float) / 255.0
                h, w = texels.shape[:2]
                centre = np.asarray(uv, float)[np.asarray(mesh.faces)].mean(axis=1) % 1.0  # glTF/OBJ wrap
                col = np.minimum((centre[:, 0] * w).astype(int), w - 1)
                row = np.minimum(((1.0 - centre[:, 1]) * h).astype(int), h - 1)  # UV v runs up the image
                rgb = rgb * texels[row, col]
            elif image is not None:
                rgb = rgb * np.asarray(image.convert("RGB").resize((16, 16)), float).reshape(-1, 3).mean(0) / 255.0
            if factor is not None or image is not None:
                return _srgb_to_linear(rgb)
        if visual.kind in ("vertex", "face"):
            if visual.kind == "vertex":
                colors = np.asarray(visual.vertex_colors, float)[:, :3][np.asarray(mesh.faces)].mean(axis=1)
            else:
                colors = np.asarray(visual.face_colors, float)[:, :3]
            return _srgb_to_linear(colors / 255.0)
    except Exception as exc:  # a broken texture must not stop indexing or retrieval; the fallback colour stands in
        logging.getLogger(__name__).warning("face colours: %s (%s: %s); using the fallback colour",
                                            getattr(mesh, "metadata", {}).get("name", "a mesh"),
                                            type(exc).__name__, exc)
    return np.tile(np.asarray(fallback, float), (n, 1))


def part_color(mesh: trimesh.Trimesh) -> tuple[float, float, float]:
    """A representative base colour of a loaded part: its faces' colours weighted by their area."""
    colors = face_colors(mesh)
    area = np.asarray(mesh.area_faces, float) if len(mesh.faces) else np.ones(0)
    if len(colors) == 0 or area.sum() <= 0:
        return (0.6, 0.6, 0.6)
    return tuple(float(c) for c in (colors * area[:, None]).sum(axis=0) / area.sum())


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0, 1)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def scene_parts(loaded: trimesh.Scene | trimesh.Trimesh) -> Parts:
    """Split a loaded file into named parts, transforms applied: one part per material (OBJ usemtl groups,
    glTF primitives), named after the material when it has a name, else after the geometry."""
    if isinstance(loaded, trimesh.Trimesh):
        loaded = trimesh.Scene(loaded)
    grouped: dict[str, list[trimesh.Trimesh]] = {}
    for node in loaded.graph.nodes_geometry:
        transform, geom_name = loaded.graph[node]
        geom = loaded.geometry[geom_name]
        if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
            continue  # point clouds and paths are no use as furniture
        mesh = geom.copy()
        mesh.apply_transform(transform)
        material = getattr(mesh.visual, "material", None)
        name = getattr(material, "name", None) or geom_name or "part"
        grouped.setdefault(_clean_name(name), []).append(mesh)
    parts: Parts = {}
    for name, meshes in grouped.items():
        parts[name] = meshes[0] if len(meshes) == 1 else _concat(meshes)
    return parts


def split_by_colour(parts: Mapping[str, trimesh.Trimesh], max_groups: int = 4, min_share: float = 0.05,
                    separation: float = 0.2) -> Parts:
    """Parts whose one material paints several clearly different colours (a palette atlas: a bed's frame,
    sheet and blanket in one texture; vertex colours) split into one part per colour, `<name>_1` the largest:
    every part gets its own material downstream, so one material per colour is what keeps the model's look.
    Colours are grouped greedily in gamma space; a group needs `min_share` of the part's area and `separation`
    from the others, so a photographic texture's grain is not cut into pieces."""
    out: Parts = {}
    for name, mesh in parts.items():
        groups = _colour_groups(mesh, max_groups, min_share, separation)
        if groups is None:
            out[name] = mesh
            continue
        for k, faces in enumerate(groups):
            out[f"{name}_{k + 1}"] = mesh.submesh([faces], append=True)
    return out


def _colour_groups(mesh: trimesh.Trimesh, max_groups: int, min_share: float,
                   separation: float) -> list[np.ndarray] | None:
    """Face indices per colour group, largest first; None when the part is one colour (or has none of its own)."""
    visual = mesh.visual
    textured = isinstance(visual, trimesh.visual.TextureVisuals) and visual.material is not None and (
        getattr(visual.material, "image", None) is not None
        or getattr(visual.material, "baseColorTexture", None) is not None)
    if not (textured or getattr(visual, "kind", None) in ("vertex", "face")) or len(mesh.faces) < 2:
        return None
    colour = np.clip(face_colors(mesh), 0, 1) ** (1 / 2.2)
    area = np.asarray(mesh.area_faces, float)
    if area.sum() <= 0:
        return None
    bins, inverse = np.unique(np.floor(colour * 8).astype(int), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    weight = np.bincount(inverse, weights=area, minlength=len(bins))
    mean = np.stack([np.bincount(inverse, weights=area * colour[:, c], minlength=len(bins)) for c in range(3)], 1)
    mean /= np.maximum(weight, 1e-12)[:, None]
    centres: list[np.ndarray] = []
    mass: list[float] = []
    for b in np.argsort(-weight):
        d = [float(np.linalg.norm(mean[b] - c)) for c in centres]
        if centres and (min(d) < separation or len(centres) >= max_groups):
            k = int(np.argmin(d))
            centres[k] = (centres[k] * mass[k] + mean[b] * weight[b]) / (mass[k] + weight[b])
            mass[k] += weight[b]
        else:
            centres.append(mean[b].copy())
            mass.append(float(weight[b]))
    keep = [c for c, m in zip(centres, mass) if m >= min_share * area.sum()]
    if len(keep) < 2:
        return None
    label = np.argmin(np.linalg.norm(colour[:, None, :] - np.asarray(keep)[None], axis=-1), axis=1)
    groups = [np.nonzero(label == k)[0] for k in range(len(keep))]
    return sorted((g for g in groups if len(g)), key=lambda g: -float(area[g].sum()))


def _concat(meshes: list[trimesh.Trimesh]) -> trimesh.Trimesh:
    try:
        return trimesh.util.concatenate(meshes)
    except Exception:  # mixed visuals that trimesh cannot merge: keep the geometry
        return trimesh.Trimesh(
            vertices=np.vstack([m.vertices for m in meshes]),
            faces=np.vstack([m.faces + o for m, o in zip(meshes, np.cumsum([0] + [len(m.vertices) for m in meshes])[:-1])]),
            process=False,
        )


def _clean_name(name: str) -> str:
    """Part names without slashes, and without the file extension trimesh gives unnamed geometry."""
    name = str(name).strip().replace("/", "_")
    stem, dot, ext = name.rpartition(".")
    if dot and stem and ext.lower() in ("obj", "ply", "stl", "off", "glb", "gltf"):
        name = stem
    return name or "part"


def bounds(parts: Mapping[str, trimesh.Trimesh]) -> np.ndarray:
    """(2, 3) min/max corners over all parts."""
    lo = np.min([p.bounds[0] for p in parts.values()], axis=0)
    hi = np.max([p.bounds[1] for p in parts.values()], axis=0)
    return np.stack([lo, hi])


def guess_unit_scale(extent: float) -> tuple[float, str]:
    """Scale to metres from the largest extent of a model with unknown units: furniture is 0.05-6 m, so an
    extent of tens to hundreds is centimetres and of thousands millimetres."""
    if extent > 600:
        return 0.001, "units-guess"
    if extent > 30:
        return 0.01, "units-guess"
    return 1.0, "file"


def canonical_transform(parts: Mapping[str, trimesh.Trimesh], up: str = "z", scale: float = 1.0) -> np.ndarray:
    """The 4x4 matrix that turns `parts` (source coordinates) into the canonical frame: axis change, scale,
    then the bounding box's bottom centre to the origin."""
    axes = Y_UP_TO_Z_UP if up == "y" else np.eye(4)
    m = np.diag([scale, scale, scale, 1.0]) @ axes
    corners = bounds(parts)
    box = np.array([[x, y, z] for x in corners[:, 0] for y in corners[:, 1] for z in corners[:, 2]])
    moved = trimesh.transform_points(box, m)
    lo, hi = moved.min(axis=0), moved.max(axis=0)
    shift = np.eye(4)
    shift[:3, 3] = [-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, -lo[2]]
    return shift @ m


def apply(parts: Mapping[str, trimesh.Trimesh], matrix: np.ndarray) -> Parts:
    """Copies of `parts` transformed by `matrix`."""
    out: Parts = {}
    for name, mesh in parts.items():
        m = mesh.copy()
        m.apply_transform(matrix)
        out[name] = m
    return out


def size_of(parts: Mapping[str, trimesh.Trimesh]) -> tuple[float, float, float]:
    lo, hi = bounds(parts)
    return tuple(round(float(v), 4) for v in hi - lo)
