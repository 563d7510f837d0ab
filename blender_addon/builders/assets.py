"""Object candidates in Blender's Asset Browser (the import option "Candidates as Assets").

Each object candidate the bundle can build (its part meshes are in the bundle, or its library .blend is on this
machine) becomes a collection asset: the candidate built by the import's object builder, at the origin, in a
collection of its own that is not linked to the scene (so nothing appears in the render), marked with
`asset_mark`, with the candidate's thumbnail as its preview, its category and label as tags and its fit
percentage in the description. The assets go into one catalogue named after the reconstruction.

Catalogues live in `blender_assets.cats.txt` next to the .blend file (Blender has no Python API for them): the
catalogue is written there when the file is saved; until then the assets carry the catalogue's id and show under
"Unassigned". The id is derived from the reconstruction's name, so re-imports and a later save agree.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import bpy
from mathutils import Matrix

from ..bundle import Bundle
from ..edits import candidate_label, candidate_rows, candidate_thumbnail, candidates, with_object_candidate
from .object import build_object

PROP_ASSET_OF = "photo2scene_asset_of"  # on an asset collection: the reconstruction (collection name) it is from
CATALOG_FILE = "blender_assets.cats.txt"
CATALOG_PARENT = "photo2scene"
_NAMESPACE = uuid.UUID("8f1b2a52-6d0e-4d7e-9c55-2f4f1d3c9a10")  # photo2scene's: catalogue ids from names


def catalog_path(reconstruction: str) -> str:
    """The catalogue's path in the Asset Browser: photo2scene/<reconstruction> ('/' would nest, so it is
    replaced)."""
    return f"{CATALOG_PARENT}/{reconstruction.replace('/', '_').replace(':', '_')}"


def catalog_id(reconstruction: str) -> str:
    """The catalogue's UUID: the same for the same reconstruction, in every file and session."""
    return str(uuid.uuid5(_NAMESPACE, catalog_path(reconstruction)))


def write_catalog(folder: Path, reconstruction: str) -> Path:
    """Add the reconstruction's catalogue to `folder`/blender_assets.cats.txt (created in Blender's format when
    missing; a line already there is kept)."""
    path = Path(folder) / CATALOG_FILE
    cid, cpath = catalog_id(reconstruction), catalog_path(reconstruction)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else [
        "# This is an Asset Catalog Definition file for Blender.", "#",
        "# Empty lines and lines starting with `#` will be ignored.",
        "# The first non-ignored line should be the version indicator.",
        '# Other lines are of the format "UUID:catalog/path/for/assets:simple catalog name"', "", "VERSION 1", ""]
    if not any(line.startswith(cid + ":") for line in lines):
        lines.append(f"{cid}:{cpath}:{cpath.replace('/', '-')}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def remove_assets(reconstruction: str) -> None:
    """Delete the asset collections an earlier import made for `reconstruction`, with their objects."""
    for coll in [c for c in bpy.data.collections if c.get(PROP_ASSET_OF) == reconstruction]:
        objects = list(coll.all_objects)
        bpy.data.collections.remove(coll)
        meshes = {o.data for o in objects if o.type == "MESH"}
        bpy.data.batch_remove(objects)
        bpy.data.batch_remove([m for m in meshes if m.users == 0])


def _set_preview(idblock: bpy.types.ID, image_path: Path) -> bool:
    """The image at `image_path` as the ID's preview (pixels copied, so it works headless)."""
    try:
        image = bpy.data.images.load(str(image_path), check_existing=False)
    except RuntimeError:
        return False
    try:
        w, h = image.size
        if w == 0 or h == 0:
            return False
        preview = idblock.preview_ensure()
        preview.image_size = (w, h)
        preview.image_pixels_float[:] = image.pixels[:]
        return True
    finally:
        bpy.data.images.remove(image)


def mark_candidate_assets(coll: bpy.types.Collection, bundle: Bundle, materials: dict) -> list[bpy.types.Collection]:
    """Build every buildable object candidate of `bundle` as a collection asset (see the module's docstring) in
    the catalogue of reconstruction `coll`; replaces the assets an earlier import made. Returns the assets."""
    from .object import library_asset

    reconstruction = coll.name
    remove_assets(reconstruction)
    cid = catalog_id(reconstruction)
    made = []
    for spec in bundle.data.objects:
        items = candidates(spec)
        percent = {row.index: row for row in candidate_rows(items)}
        for index, cand in enumerate(items):
            new_spec = with_object_candidate(spec, index)
            source = library_asset(new_spec)
            if not cand.parts and not (source is not None and source[0].is_file()):
                continue  # neither meshes in the bundle nor a library file here: nothing to build
            label = candidate_label(cand, index)
            asset = bpy.data.collections.new(f"{spec.name}: {label}")
            asset[PROP_ASSET_OF] = reconstruction
            root = build_object(new_spec, bundle, materials, asset)
            root.matrix_world = Matrix.Diagonal((*root.matrix_world.to_scale(), 1.0))  # at the origin, unturned
            asset.asset_mark()
            asset.use_fake_user = True  # kept on save although no scene uses it
            data = asset.asset_data
            data.catalog_id = cid
            row = percent.get(index)
            data.description = (f"{spec.name} ({spec.label or 'object'}), candidate {index + 1}"
                                + (f": {row.measure} {row.percent:.0f}%" if row and row.percent is not None else ""))
            for tag in {spec.label, cand.category, "chosen" if cand.asset_id == spec.asset_id else None}:
                if tag:
                    data.tags.new(str(tag), skip_if_exists=True)
            thumb = candidate_thumbnail(bundle.root, cand)
            if thumb is not None and thumb.is_file():
                _set_preview(asset, thumb)
            made.append(asset)
    if made and bpy.data.filepath:
        write_catalog(Path(bpy.data.filepath).parent, reconstruction)
    return made
