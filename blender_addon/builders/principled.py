"""Plain Principled BSDF materials (scene.json materials of type 'principled')."""

from __future__ import annotations

import bpy

from ..scene_format import PROP_MATERIAL, MaterialEntry


def build_principled(name: str, spec: MaterialEntry) -> bpy.types.Material:
    """A material with one Principled BSDF set from `base_color`, `roughness`, `metallic`."""
    mat = bpy.data.materials.new(name)
    if mat.node_tree is None:  # Blender 4.x: new materials have no tree until use_nodes is set
        mat.use_nodes = True
    mat[PROP_MATERIAL] = name  # scene.json key (Blender may rename to name.001)
    tree = mat.node_tree
    bsdf = next(n for n in tree.nodes if n.bl_idname == "ShaderNodeBsdfPrincipled")
    bsdf.inputs["Base Color"].default_value = (*spec.base_color[:3], 1.0)
    bsdf.inputs["Roughness"].default_value = spec.roughness_or_default()
    bsdf.inputs["Metallic"].default_value = spec.metallic_or_default()
    if spec.emission:  # a lamp's glowing part: linear RGB radiance (emission strength 1 = radiance)
        bsdf.inputs["Emission Color"].default_value = (*spec.emission[:3], 1.0)
        bsdf.inputs["Emission Strength"].default_value = 1.0
    mat.diffuse_color = (*spec.base_color[:3], 1.0)  # viewport solid colour
    mat["photo2scene_source"] = spec.source or ""
    return mat
