"""Room: the box's floor, ceiling and walls as separate objects with inward normals and metric UVs, walls with
thickness (their far side is its own object) and the windows and doors cut through them (`build_opening`)."""

from __future__ import annotations

import bpy
from mathutils import Matrix

from ..scene_format import (CAMERA_ONLY_PARTS, PROP_FACE, PROP_NOTE, PROP_OBJECT, ROOM_FACES, MaterialEntry,
                            Opening, Quad, Room, opening_quads, room_face_name, room_face_quads)


def is_placeholder(spec: MaterialEntry | None) -> bool:
    """A room stage placeholder: the face's median photo colour, written before the material stage fits it
    (pipeline/stages/room/stage.py marks its `source` so)."""
    return spec is not None and "placeholder" in (spec.source or "")


def fitted_room_materials(room: Room, materials: dict[str, MaterialEntry],
                          stages: dict) -> tuple[dict[str, str], dict[str, str]]:
    """The material for each room face in Blender, and a note for each face whose material was swapped.

    After the material stage, a face it could not fit (a wall the photo does not show) is left on the room
    stage's placeholder. In Blender that face would stand out in another colour as soon as the camera turns, so
    it gets the fitted material of its own kind instead (a wall takes the first fitted wall's in ROOM_FACES
    order). scene.json is not changed: its face keeps the placeholder, and Refine writes no room faces. Before
    the material stage every room material is a placeholder, and they are kept."""
    faces = dict(room.materials)
    notes: dict[str, str] = {}
    if "materials_lights" not in stages:
        return faces, notes
    kind = lambda face: "wall" if face.startswith("wall") else face  # noqa: E731
    for face, name in room.materials.items():
        if not is_placeholder(materials.get(name)):
            continue
        fitted = next((other for f in ROOM_FACES if kind(f) == kind(face) and f != face
                       for other in [room.materials.get(f)] if other and not is_placeholder(materials.get(other))),
                      None)
        if fitted is not None:
            faces[face] = fitted
            notes[face] = (f"room face {face}: the material stage did not fit it (not seen in the photo?); using "
                           f"{fitted} instead of the placeholder {name}")
        else:
            notes[face] = f"room face {face}: still the room stage's placeholder material {name}"
    return faces, notes


def build_room(room: Room, materials: dict[str, bpy.types.Material], collection: bpy.types.Collection,
               face_materials: dict[str, str] | None = None,
               notes: dict[str, str] | None = None) -> list[bpy.types.Object]:
    """One object per face, named after it, with the material scene.json assigns to that face (or the one
    `face_materials` gives it: `fitted_room_materials`); `notes` go on the faces for the import to report."""
    face_materials = room.materials if face_materials is None else face_materials
    objects = []
    for face in ROOM_FACES:
        # Quads and UVs from scene_format, which the pipeline's renderer uses too: geometry and textures match.
        quads = room_face_quads(room, face, outside=True)
        material = materials.get(face_materials.get(face, ""))
        obj = _quads_object(room_face_name(face), [q for q in quads if q.part != "outside"], material, collection)
        obj[PROP_FACE] = face
        if notes and face in notes:
            obj[PROP_NOTE] = notes[face]
        objects.append(obj)
        outside = [q for q in quads if q.part == "outside"]
        if outside:  # the wall's far side: walls have thickness (an untagged object, so it is no room surface)
            objects.append(_quads_object(f"{room_face_name(face)}_outside", outside, material, collection))
    for opening in room.openings or []:
        objects += build_opening(room, opening, materials, collection)
    return objects


def build_opening(room: Room, opening: Opening, materials: dict[str, bpy.types.Material],
                  collection: bpy.types.Collection) -> list[bpy.types.Object]:
    """A window or door: an Empty tagged like a furniture root (`photo2scene_object`, `photo2scene_label` = its
    kind) with one mesh per part below it. A window's glass (a see-through pane, Transparent BSDF) and its
    backdrop (the view out) are seen by the camera only: the window's area light lights the room, as in the
    pipeline's render."""
    quads_all = opening_quads(room, opening)
    corners = [c for q in quads_all for c in q.corners]
    place = Matrix.Translation([sum(c[k] for c in corners) / len(corners) for k in range(3)])
    root = bpy.data.objects.new(opening.name, None)
    root.empty_display_size = 0.2
    root.matrix_world = place
    root[PROP_OBJECT] = opening.name
    root["photo2scene_label"] = opening.kind
    collection.objects.link(root)
    out = [root]
    by_part: dict[str, list[Quad]] = {}
    for quad in quads_all:
        by_part.setdefault(quad.part, []).append(quad)
    for part, quads in by_part.items():
        material = glass_material() if part == "glass" else materials.get(quads[0].material)
        obj = _quads_object(f"{opening.name}.{part}", quads, material, collection)
        obj.parent = root
        obj.matrix_parent_inverse = place.inverted()  # the parts' vertices are in world coordinates
        if part in CAMERA_ONLY_PARTS:  # the glass, and the backdrop: the window's area light lights the room
            obj.visible_diffuse = obj.visible_glossy = obj.visible_transmission = obj.visible_shadow = False
            obj.visible_volume_scatter = False
        out.append(obj)
    return out


GLASS_MATERIAL = "photo2scene window glass"


def glass_material() -> bpy.types.Material:
    """A clear pane: fully transparent (the pipeline renders no glass; a refracting one would also block the
    window light's direct light in both renderers)."""
    mat = bpy.data.materials.get(GLASS_MATERIAL)
    if mat is None:
        mat = bpy.data.materials.new(GLASS_MATERIAL)
        if mat.node_tree is None:  # Blender 4.x: new materials have no tree until use_nodes is set
            mat.use_nodes = True
        nodes = mat.node_tree.nodes
        nodes.clear()
        out = nodes.new("ShaderNodeOutputMaterial")
        bsdf = nodes.new("ShaderNodeBsdfTransparent")
        mat.node_tree.links.new(bsdf.outputs["BSDF"], out.inputs["Surface"])
        mat.diffuse_color = (0.8, 0.9, 1.0, 0.2)
    return mat


def _quads_object(name: str, quads: list[Quad], material: bpy.types.Material | None,
                  collection: bpy.types.Collection) -> bpy.types.Object:
    """A mesh object of planar quads (world coordinates) with their metric UVs and one material."""
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([c for q in quads for c in q.corners], [], [tuple(range(4 * i, 4 * i + 4))
                                                                  for i in range(len(quads))])
    uv = mesh.uv_layers.new(name="UVMap")
    coords = [c for q in quads for c in q.uvs]
    for loop in mesh.loops:
        uv.data[loop.index].uv = coords[loop.vertex_index]
    mesh.update()
    if material is not None:
        mesh.materials.append(material)
    obj = bpy.data.objects.new(name, mesh)
    collection.objects.link(obj)
    return obj
