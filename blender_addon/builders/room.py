"""Room: the box's floor, ceiling and walls as separate quad objects with inward normals and metric UVs."""

from __future__ import annotations

import bpy

from ..scene_format import PROP_FACE, ROOM_FACES, Room, face_uvs, room_face_name


def build_room(room: Room, materials: dict[str, bpy.types.Material],
               collection: bpy.types.Collection) -> list[bpy.types.Object]:
    """One object per face, named after it, with the material scene.json assigns to that face."""
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
        mat_name = room.materials.get(face)
        if mat_name and mat_name in materials:
            mesh.materials.append(materials[mat_name])
        obj[PROP_FACE] = face
        collection.objects.link(obj)
        objects.append(obj)
    return objects
