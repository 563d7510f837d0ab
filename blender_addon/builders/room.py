"""Room: the box's floor, ceiling and walls as separate quad objects with inward normals and metric UVs."""

from __future__ import annotations

import bpy

from ..scene_format import PROP_FACE, PROP_NOTE, ROOM_FACES, MaterialEntry, Room, face_uvs, room_face_name


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
        # Corners and UVs from scene_format, which the pipeline's renderer uses too: textures line up in both.
        corners = room.face_corners(face)
        mesh = bpy.data.meshes.new(room_face_name(face))
        mesh.from_pydata(corners, [], [(0, 1, 2, 3)])
        uv = mesh.uv_layers.new(name="UVMap")
        for loop, coords in zip(mesh.loops, face_uvs(corners)):
            uv.data[loop.index].uv = coords
        mesh.update()
        obj = bpy.data.objects.new(room_face_name(face), mesh)
        mat_name = face_materials.get(face)
        if mat_name and mat_name in materials:
            mesh.materials.append(materials[mat_name])
        obj[PROP_FACE] = face
        if notes and face in notes:
            obj[PROP_NOTE] = notes[face]
        collection.objects.link(obj)
        objects.append(obj)
    return objects
