"""The Scene as a Mitsuba 3 XML file (with OBJ meshes) so it can be re-rendered outside Blender."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

from ..scene import Scene


def _vec(v) -> str:
    return ", ".join(f"{float(x):.6g}" for x in v)


def write_quad_obj(path: Path, corners: np.ndarray) -> None:
    """A quad as an OBJ with metric UVs (distance along its two edges)."""
    e1, e2 = corners[1] - corners[0], corners[3] - corners[0]
    l1, l2 = np.linalg.norm(e1), np.linalg.norm(e2)
    lines = [f"v {p[0]:.6f} {p[1]:.6f} {p[2]:.6f}" for p in corners]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in ((0, 0), (l1, 0), (l1, l2), (0, l2))]
    lines += ["f 1/1 2/2 3/3", "f 1/1 3/3 4/4"]
    path.write_text("\n".join(lines) + "\n")


def _bsdf(spec: dict) -> str:
    if spec.get("type") == "principled":
        return (f'<bsdf type="principled"><rgb name="base_color" value="{_vec(spec["base_color"])}"/>'
                f'<float name="roughness" value="{spec.get("roughness", 0.5)}"/>'
                f'<float name="metallic" value="{spec.get("metallic", 0.0)}"/></bsdf>')
    return '<bsdf type="diffuse"><rgb name="reflectance" value="0.5"/></bsdf>'


def write_mitsuba_scene(root: Path, scene: Scene, spp: int = 256) -> Path:
    """Write root/mitsuba/scene.xml (+ meshes/); returns the XML path."""
    out = root / "mitsuba"
    (out / "meshes").mkdir(parents=True, exist_ok=True)
    cam = scene.camera
    target = cam.t + cam.R @ np.array([0.0, 0.0, -1.0])
    up = cam.R @ np.array([0.0, 1.0, 0.0])
    parts = [
        '<scene version="3.0.0">',
        f'  <integrator type="path"><integer name="max_depth" value="6"/></integrator>',
        f'  <sensor type="perspective"><float name="fov" value="{cam.fov_y_deg:.6g}"/>'
        f'<string name="fov_axis" value="y"/>',
        f'    <transform name="to_world"><lookat origin="{_vec(cam.t)}" target="{_vec(target)}" up="{_vec(up)}"/>'
        f'</transform>',
        f'    <sampler type="independent"><integer name="sample_count" value="{spp}"/></sampler>',
        f'    <film type="hdrfilm"><integer name="width" value="{cam.width}"/>'
        f'<integer name="height" value="{cam.height}"/></film>',
        '  </sensor>',
    ]
    for name, spec in scene.materials.items():
        parts.append(f'  <!-- material {name} -->')
        parts.append(f"  {_bsdf(spec).replace('<bsdf ', f'<bsdf id={quoteattr(name)} ', 1)}")
    if scene.room is not None:
        for face, corners in scene.room.face_quads().items():
            write_quad_obj(out / "meshes" / f"room_{face}.obj", corners)
            mat = scene.room.materials.get(face)
            ref = f'<ref id={quoteattr(mat)}/>' if mat in scene.materials else ""
            parts.append(f'  <shape type="obj" id="room_{face}"><string name="filename" '
                         f'value="meshes/room_{face}.obj"/>{ref}</shape>')
    for light in scene.lights:
        parts.append(_light(light))
    if not scene.lights:
        parts.append("  <!-- no lights estimated yet (room stage only): a preview light under the ceiling -->")
        top = scene.room.center[2] + scene.room.size[2] / 2 - 0.3 if scene.room else 2.5
        centre = scene.room.center if scene.room else [0, 0, 0]
        parts.append(f'  <emitter type="point"><point name="position" value="{_vec([centre[0], centre[1], top])}"/>'
                     f'<rgb name="intensity" value="20"/></emitter>')
    parts.append("</scene>")
    path = out / "scene.xml"
    path.write_text("\n".join(parts) + "\n")
    return path


def _light(light) -> str:
    """Area lights as emitting rectangles; Blender's watts -> Mitsuba radiance for a one-sided Lambertian
    emitter: L = P / (pi * area) (W/m^2/sr; the spectral/colour normalisation is the light stage's job)."""
    pos = np.asarray(light.position)
    rot = np.asarray(light.rotation)
    colour = np.asarray(light.color)
    if light.type == "area":
        sx, sy = light.size[:2]
        radiance = colour * light.power_w / (np.pi * sx * sy)
        m = np.eye(4)
        m[:3, :3] = rot @ np.diag([sx / 2, sy / 2, 1.0])
        m[:3, 3] = pos
        # Blender area lights emit along their local -Z; Mitsuba rectangles along +Z: flip z.
        m[:3, 2] *= -1
        matrix = " ".join(f"{v:.6g}" for v in m.ravel())
        return (f'  <shape type="rectangle"><transform name="to_world"><matrix value="{matrix}"/></transform>'
                f'<emitter type="area"><rgb name="radiance" value="{_vec(radiance)}"/></emitter>'
                f'<bsdf type="diffuse"><rgb name="reflectance" value="0"/></bsdf></shape>')
    intensity = colour * light.power_w / (4 * np.pi)
    return (f'  <emitter type="point"><point name="position" value="{_vec(pos)}"/>'
            f'<rgb name="intensity" value="{_vec(intensity)}"/></emitter>')
