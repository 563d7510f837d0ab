"""Objects: each reconstructed piece of furniture as an empty (its pose) with one mesh child per material part.

Part meshes come from the bundle as OBJ files in the model's canonical frame (metres, Z up, origin at the bottom
centre); the empty carries location, yaw and scale, so moving the empty in Blender moves the whole piece and
"Refine" can read the pose back. The retrieval candidates are kept as a JSON custom property for swapping.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import bpy
from mathutils import Matrix


def read_obj(path: Path) -> tuple[list, list, list, list]:
    """(vertices, faces, uvs, face_uv_indices) of a triangle/polygon OBJ (positions and UVs only)."""
    verts, uvs, faces, face_uvs = [], [], [], []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("v "):
                verts.append(tuple(float(x) for x in line.split()[1:4]))
            elif line.startswith("vt "):
                uvs.append(tuple(float(x) for x in line.split()[1:3]))
            elif line.startswith("f "):
                corners = [c.split("/") for c in line.split()[1:]]
                faces.append([int(c[0]) - 1 for c in corners])
                face_uvs.append([int(c[1]) - 1 for c in corners] if all(len(c) > 1 and c[1] for c in corners)
                                else None)
    return verts, faces, uvs, face_uvs


def mesh_from_obj(name: str, path: Path) -> bpy.types.Mesh:
    verts, faces, uvs, face_uvs = read_obj(path)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(verts, [], faces)
    if uvs and all(f is not None for f in face_uvs):
        layer = mesh.uv_layers.new(name="UVMap")
        loop = 0
        for fuv in face_uvs:
            for index in fuv:
                layer.data[loop].uv = uvs[index]
                loop += 1
    mesh.validate()
    mesh.update()
    return mesh


def object_matrix(spec: dict) -> Matrix:
    """Location, yaw about +Z and (per-axis) scale of a scene.json object as a Blender matrix."""
    yaw = math.radians(spec.get("yaw_deg", 0.0))
    sx, sy, sz = spec.get("scale", [1.0, 1.0, 1.0])
    c, s = math.cos(yaw), math.sin(yaw)
    x, y, z = spec["location"]
    return Matrix([[c * sx, -s * sy, 0.0, x], [s * sx, c * sy, 0.0, y], [0.0, 0.0, sz, z], [0.0, 0.0, 0.0, 1.0]])


def build_object(spec: dict, bundle, materials: dict, collection: bpy.types.Collection) -> bpy.types.Object:
    """An empty named after the object, posed, with a mesh child per part and the part's material."""
    root = bpy.data.objects.new(spec["name"], None)
    root.empty_display_type = "CUBE"
    root.empty_display_size = 0.05
    root.matrix_world = object_matrix(spec)
    root["photo2scene_object"] = spec["name"]  # scene.json key, for Refine and swaps
    root["photo2scene_asset"] = spec.get("asset_id", "")
    root["photo2scene_label"] = spec.get("label", "")
    root["photo2scene_candidates"] = json.dumps(spec.get("candidates", []))
    collection.objects.link(root)
    for part in spec.get("parts", []):
        mesh = mesh_from_obj(f"{spec['name']}.{part['name']}", bundle.path(part["mesh"]))
        if part.get("material") in materials:
            mesh.materials.append(materials[part["material"]])
        child = bpy.data.objects.new(mesh.name, mesh)
        child.parent = root
        child["photo2scene_part"] = part["name"]
        collection.objects.link(child)
    return root
