"""Blender asset libraries: objects and collections marked as assets in .blend files, read with the bpy module.

Listing reads each .blend into a throw-away `bpy.data.temp_data()` (the running session is left alone); loading
a model appends it into the session, evaluates it in a temporary scene (so modifiers apply), copies the
triangles out per material, and removes everything it added. Categories come from the asset's tags, its
catalog path (blender_assets.cats.txt), its name and the file name, in that order.

Source coordinates of a Blender asset are the asset as Blender places it at the origin (its saved rotation and
scale kept, its location removed); `record.to_canonical` maps them to the canonical frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from p2s_common.errors import SetupError

from ..categories import category_from_texts
from ..materials import guess_material
from ..meshutil import apply, box_uv, canonical_transform
from ..record import AssetRecord, PartInfo
from .base import AssetSource, LoadedModel, ScanUnit, file_stat

CATALOG_FILE = "blender_assets.cats.txt"
LOADER_VERSION = 1
# Datablock kinds whose new members `load` removes again after copying the geometry out.
_ID_KINDS = ("objects", "meshes", "materials", "images", "textures", "node_groups", "collections", "curves",
             "armatures", "actions", "lights", "cameras", "worlds", "libraries")


def _bpy():
    try:
        import bpy  # lazy: Blender takes seconds to load and only .blend libraries need it
    except ImportError as exc:
        raise SetupError(f"reading .blend asset libraries needs the bpy module ({exc}): "
                         "pip install bpy==5.0.1 (Python 3.11)") from exc
    return bpy


class BlendSource(AssetSource):
    """Assets in the .blend files under `root` (a folder, or one .blend file)."""

    kind = "blend"

    def __init__(self, root: str | Path, category: str | None = None):
        self.root = Path(root).expanduser().resolve()
        self.category = category

    @property
    def key(self) -> str:
        return f"blend:{self.root}"

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "root": str(self.root), "category": self.category}

    def units(self) -> Iterator[ScanUnit]:
        blends = [self.root] if self.root.is_file() else sorted(
            p for p in self.root.rglob("*.blend") if not any(part.startswith(".") for part in p.parts))
        for path in blends:
            files = {str(path): file_stat(path)}
            cats = _find_catalog_file(path, self.root)
            if cats is not None:
                files[str(cats)] = file_stat(cats)
            yield ScanUnit(key=str(path), files=files, version=f"{LOADER_VERSION}|{self.category}")

    def expand(self, unit: ScanUnit) -> list[AssetRecord]:
        bpy = _bpy()
        path = Path(unit.key)
        catalogs = _read_catalogs(_find_catalog_file(path, self.root))
        records = []
        with bpy.data.temp_data() as data:
            with data.libraries.load(str(path), link=True, assets_only=True) as (src, dst):
                dst.objects = list(src.objects)
                dst.collections = list(src.collections)
            for datablock, ids in (("Object", dst.objects), ("Collection", dst.collections)):
                for item in ids:
                    if item is None or item.asset_data is None:
                        continue
                    if datablock == "Object" and item.type != "MESH":
                        continue  # lights, cameras, curves: not furniture we can fit
                    meta = item.asset_data
                    tags = [t.name for t in meta.tags]
                    catalog = catalogs.get(meta.catalog_id, meta.catalog_simple_name or "")
                    category = category_from_texts([*tags, catalog, item.name, self.category, path.stem])
                    records.append(AssetRecord(
                        id=f"blend:{path}#{datablock}/{item.name}", source=self.kind, path=str(path),
                        category=category, size=(0, 0, 0), name=item.name, library=self.key,
                        extra={"datablock": datablock, "name": item.name, "tags": tags, "catalog": catalog,
                               "description": meta.description or ""},
                    ))
        return records

    def load(self, record: AssetRecord) -> LoadedModel:
        bpy = _bpy()
        datablock, name = record.extra["datablock"], record.extra["name"]
        before = {kind: {i.as_pointer() for i in getattr(bpy.data, kind)} for kind in _ID_KINDS}
        scene = bpy.data.scenes.new("__assets_index_tmp")
        try:
            with bpy.data.libraries.load(record.path, link=False, assets_only=True) as (src, dst):
                if datablock == "Object":
                    dst.objects = [name]
                else:
                    dst.collections = [name]
            item = (dst.objects or dst.collections)[0]
            if item is None:
                raise ValueError(f"{record.path} has no {datablock.lower()} asset {name!r} any more")
            if datablock == "Object":
                scene.collection.objects.link(item)
                objects = [item]
            else:
                scene.collection.children.link(item)
                objects = list(item.all_objects)
            # Evaluate our own scene (modifiers applied), not the session's current one.
            with bpy.context.temp_override(scene=scene, view_layer=scene.view_layers[0]):
                depsgraph = bpy.context.evaluated_depsgraph_get()
                # World matrices exist only once evaluated; the asset's own location is not part of its shape.
                origin = (np.array(item.evaluated_get(depsgraph).matrix_world.translation) if datablock == "Object"
                          else np.array(item.instance_offset))
                parts, colors = _extract(objects, depsgraph, origin)
        finally:
            bpy.data.scenes.remove(scene)
            added = [i for kind in _ID_KINDS for i in getattr(bpy.data, kind)
                     if i.as_pointer() not in before[kind]]
            if added:
                bpy.data.batch_remove(added)
        if not parts:
            raise ValueError(f"asset {name!r} in {record.path} has no mesh triangles")
        matrix = canonical_transform(parts)
        canon = apply(parts, matrix)
        infos = [PartInfo(name=n, material=guess_material(n), color=colors[n], faces=len(m.faces))
                 for n, m in canon.items()]
        return LoadedModel(canon, infos, size_from="file", to_canonical=matrix.tolist())


def _extract(objects: list, depsgraph, origin: np.ndarray) -> tuple[dict[str, trimesh.Trimesh], dict[str, tuple]]:
    """Triangles of evaluated mesh objects, grouped by material (the part name), in world coordinates
    minus `origin`, with their UVs when the mesh has some."""
    pieces: dict[str, list[trimesh.Trimesh]] = {}
    colors: dict[str, tuple] = {}
    for obj in objects:
        if obj.type != "MESH":
            continue
        ev = obj.evaluated_get(depsgraph)
        mesh = ev.to_mesh()
        try:
            mesh.calc_loop_triangles()
            n = len(mesh.loop_triangles)
            if n == 0:
                continue
            co = np.empty(len(mesh.vertices) * 3, np.float32)
            mesh.vertices.foreach_get("co", co)
            co = co.reshape(-1, 3).astype(float)
            m = np.array(ev.matrix_world)
            co = co @ m[:3, :3].T + m[:3, 3] - origin
            tri_v = np.empty(n * 3, np.int64)
            mesh.loop_triangles.foreach_get("vertices", tri_v)
            tri_l = np.empty(n * 3, np.int64)
            mesh.loop_triangles.foreach_get("loops", tri_l)
            mat = np.empty(n, np.int64)
            mesh.loop_triangles.foreach_get("material_index", mat)
            uv = None
            if mesh.uv_layers.active is not None:
                uv = np.empty(len(mesh.loops) * 2, np.float32)
                mesh.uv_layers.active.data.foreach_get("uv", uv)
                uv = uv.reshape(-1, 2)
            slots = [s.material for s in ev.material_slots]
            for k in np.unique(mat):
                material = slots[k] if k < len(slots) else None
                part = (material.name if material else obj.name).replace("/", "_")
                sel = np.nonzero(mat == k)[0]
                corners = tri_v.reshape(-1, 3)[sel].ravel()
                piece = trimesh.Trimesh(vertices=co[corners], faces=np.arange(len(corners)).reshape(-1, 3),
                                        process=False)
                if uv is not None:
                    piece.visual = trimesh.visual.TextureVisuals(uv=uv[tri_l.reshape(-1, 3)[sel].ravel()])
                    piece.merge_vertices()
                else:
                    piece = box_uv(piece)
                pieces.setdefault(part, []).append(piece)
                colors.setdefault(part, _material_color(material))
        finally:
            ev.to_mesh_clear()
    parts = {name: (ps[0] if len(ps) == 1 else trimesh.util.concatenate(ps)) for name, ps in pieces.items()}
    return parts, colors


def _material_color(material) -> tuple[float, float, float]:
    """Linear RGB base colour: the Principled BSDF's unlinked Base Color, else the viewport colour."""
    if material is None:
        return (0.6, 0.6, 0.6)
    tree = getattr(material, "node_tree", None)
    if tree is not None:
        for node in tree.nodes:
            if node.type == "BSDF_PRINCIPLED":
                socket = node.inputs.get("Base Color")
                if socket is not None and not socket.is_linked:
                    return tuple(float(c) for c in socket.default_value[:3])
    return tuple(float(c) for c in material.diffuse_color[:3])


def _find_catalog_file(blend: Path, root: Path) -> Path | None:
    """blender_assets.cats.txt in the .blend's folder or the nearest parent up to the library root."""
    folder = blend.parent
    stop = root if root.is_dir() else root.parent
    while True:
        candidate = folder / CATALOG_FILE
        if candidate.is_file():
            return candidate
        if folder == stop or folder == folder.parent:
            return None
        folder = folder.parent


def _read_catalogs(path: Path | None) -> dict[str, str]:
    """Catalog UUID -> catalog path ("Furniture/Seating/Sofas") from a catalog definition file."""
    if path is None:
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "VERSION")):
            continue
        fields = line.split(":")
        if len(fields) >= 2:
            out[fields[0]] = fields[1]
    return out
