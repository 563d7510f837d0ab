"""Room: the box's floor, ceiling and walls as separate quad objects with inward normals and metric UVs."""

from __future__ import annotations

import math

import bpy

# face name -> (axis it closes, side: 0 = min, 1 = max); mirrors pipeline.scene.ROOM_FACES (bpy-free contract).
FACES = {"floor": (2, 0), "ceiling": (2, 1), "wall_x_min": (0, 0), "wall_x_max": (0, 1),
         "wall_y_min": (1, 0), "wall_y_max": (1, 1)}


def face_corners(room: dict, face: str) -> list[tuple[float, float, float]]:
    """World corners of a room face, ordered so the face normal points into the room."""
    axis, side = FACES[face]
    half = [s / 2 for s in room["size"]]
    u, v = [a for a in range(3) if a != axis]
    corners = []
    for cu, cv in ((0, 0), (1, 0), (1, 1), (0, 1)):
        p = [0.0, 0.0, 0.0]
        p[axis] = half[axis] if side else -half[axis]
        p[u] = half[u] if cu else -half[u]
        p[v] = half[v] if cv else -half[v]
        corners.append(p)
    # The (u, v) order's normal is e_u x e_v: +axis for x and z faces, -axis for y faces. Inward is +axis on the
    # min side and -axis on the max side; reverse the winding where they disagree.
    normal_sign = -1 if axis == 1 else 1
    inward_sign = -1 if side else 1
    if normal_sign != inward_sign:
        corners.reverse()
    yaw = math.radians(room.get("yaw_deg", 0.0))
    c, s = math.cos(yaw), math.sin(yaw)
    cx, cy, cz = room["center"]
    return [(cx + c * x - s * y, cy + s * x + c * y, cz + z) for x, y, z in corners]


def build_room(room: dict, materials: dict[str, bpy.types.Material],
               collection: bpy.types.Collection) -> list[bpy.types.Object]:
    """One object per face, named after it, with the material scene.json assigns to that face."""
    objects = []
    for face in FACES:
        corners = face_corners(room, face)
        mesh = bpy.data.meshes.new(f"room_{face}")
        mesh.from_pydata(corners, [], [(0, 1, 2, 3)])
        uv = mesh.uv_layers.new(name="UVMap")
        # Metric UVs: distance along the face's two edges, so texture scales are in metres.
        e1 = [corners[1][i] - corners[0][i] for i in range(3)]
        e2 = [corners[3][i] - corners[0][i] for i in range(3)]
        l1, l2 = math.dist((0, 0, 0), e1), math.dist((0, 0, 0), e2)
        for loop, (a, b) in zip(mesh.loops, ((0, 0), (l1, 0), (l1, l2), (0, l2))):
            uv.data[loop.index].uv = (a, b)
        mesh.update()
        obj = bpy.data.objects.new(f"room_{face}", mesh)
        mat_name = room.get("materials", {}).get(face)
        if mat_name and mat_name in materials:
            mesh.materials.append(materials[mat_name])
        obj["photo2scene_face"] = face
        collection.objects.link(obj)
        objects.append(obj)
    return objects
