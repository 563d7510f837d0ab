"""Plain Principled BSDF materials (scene.json materials of type 'principled')."""

from __future__ import annotations

from pathlib import Path

import bpy

from ..scene_format import PROP_MATERIAL, MaterialEntry


def build_principled(name: str, spec: MaterialEntry, emission_picture: Path | None = None) -> bpy.types.Material:
    """A material with one Principled BSDF set from `base_color`, `roughness`, `metallic`; `emission_picture`: the
    file of `textures.emission` (a window's backdrop), which the emission colour multiplies (packed in the .blend)."""
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
        if emission_picture is not None:
            _emission_picture(tree, bsdf, emission_picture, spec.emission[:3])
    mat.diffuse_color = (*spec.base_color[:3], 1.0)  # viewport solid colour
    mat["photo2scene_source"] = spec.source or ""
    return mat


def _emission_picture(tree, bsdf, path: Path, colour) -> None:
    """Emission Color = the picture (sRGB file, over the mesh's UVs) x `colour`, as the pipeline's emitter does."""
    image = bpy.data.images.load(str(path), check_existing=True)
    image.pack()  # the .blend stays complete when moved away from the bundle
    tex = tree.nodes.new("ShaderNodeTexImage")
    tex.image, tex.extension, tex.label = image, "EXTEND", "Outdoors (photo)"
    tex.location = (bsdf.location.x - 500, bsdf.location.y - 300)
    mul = tree.nodes.new("ShaderNodeVectorMath")
    mul.operation, mul.label = "MULTIPLY", "Emission scale"
    mul.inputs[1].default_value = tuple(float(c) for c in colour)
    mul.location = (bsdf.location.x - 250, bsdf.location.y - 300)
    tree.links.new(tex.outputs["Color"], mul.inputs[0])
    tree.links.new(mul.outputs["Vector"], bsdf.inputs["Emission Color"])
