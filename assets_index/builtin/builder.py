"""A tiny modelling kit for the built-in library: pieces (boxes, cylinders, surfaces of revolution) collected
into named material parts, then given box-projected UVs in metres and a base colour.

Coordinates follow the canonical frame: metres, Z up, front towards -Y, origin at the bottom centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from ..meshutil import Parts, box_uv, set_color
from ..record import PartInfo

Vec = tuple[float, float, float]


@dataclass
class _PartSpec:
    material: str
    color: tuple[float, float, float]


class Builder:
    """Collects primitive pieces per part; `build()` returns the parts and their descriptions."""

    def __init__(self) -> None:
        self._specs: dict[str, _PartSpec] = {}
        self._pieces: dict[str, list[trimesh.Trimesh]] = {}

    def part(self, name: str, material: str, color: tuple[float, float, float]) -> "Builder":
        """Declare a part (material class hint and linear-RGB base colour) before adding pieces to it."""
        self._specs[name] = _PartSpec(material, color)
        self._pieces.setdefault(name, [])
        return self

    def _add(self, part: str, mesh: trimesh.Trimesh) -> None:
        if part not in self._specs:
            raise KeyError(f"declare part {part!r} with Builder.part() first")
        self._pieces[part].append(mesh)

    def last(self, part: str, count: int = 1) -> list[trimesh.Trimesh]:
        """The last `count` pieces added to `part`, to move or scale them in place."""
        return self._pieces[part][-count:]

    def box(self, part: str, lo: Vec, hi: Vec, bevel: float = 0.0) -> None:
        """Axis-aligned box between corners `lo` and `hi`; `bevel` > 0 chamfers its edges (cushions)."""
        lo_a, hi_a = np.asarray(lo, float), np.asarray(hi, float)
        ext = hi_a - lo_a
        centre = (lo_a + hi_a) / 2
        b = min(bevel, float(ext.min()) * 0.45)
        if b <= 0:
            mesh = trimesh.creation.box(extents=ext)
        else:
            # Convex hull of three boxes, each inset on two axes: a box with chamfered edges and corners.
            pts = []
            for axis in range(3):
                e = ext - 2 * b
                e[axis] = ext[axis]
                pts.append(trimesh.creation.box(extents=e).vertices)
            mesh = trimesh.convex.convex_hull(np.vstack(pts))
        mesh.apply_translation(centre)
        self._add(part, mesh)

    def cylinder(self, part: str, base: Vec, height: float, radius: float, radius_top: float | None = None,
                 sections: int = 16) -> None:
        """Vertical (optionally tapered) cylinder standing on `base`."""
        r1 = radius if radius_top is None else radius_top
        self.revolve(part, base, [(0.0, 0.0), (radius, 0.0), (r1, height), (0.0, height)], sections)

    def revolve(self, part: str, base: Vec, profile: list[tuple[float, float]], sections: int = 24) -> None:
        """Surface of revolution about the vertical axis through `base`; `profile` is (radius, z) points."""
        mesh = trimesh.creation.revolve(np.asarray(profile, float), sections=sections)
        mesh.apply_translation(base)
        self._add(part, mesh)

    def rod(self, part: str, p0: Vec, p1: Vec, radius: float, sections: int = 10, square: bool = False) -> None:
        """A round (or square) rod from `p0` to `p1`: splayed legs, frames, arcs."""
        a, b = np.asarray(p0, float), np.asarray(p1, float)
        length = float(np.linalg.norm(b - a))
        if square:
            mesh = trimesh.creation.box(extents=(2 * radius, 2 * radius, length))
        else:
            mesh = trimesh.creation.cylinder(radius=radius, height=length, sections=sections)
        align = trimesh.geometry.align_vectors([0, 0, 1], (b - a) / length)
        mesh.apply_transform(align)
        mesh.apply_translation((a + b) / 2)
        self._add(part, mesh)

    def blob(self, part: str, centre: Vec, radii: Vec, subdivisions: int = 2) -> None:
        """An ellipsoid (foliage, pillows)."""
        mesh = trimesh.creation.icosphere(subdivisions=subdivisions)
        mesh.apply_scale(radii)
        mesh.apply_translation(centre)
        self._add(part, mesh)

    def prism(self, part: str, polygon: np.ndarray, z0: float, z1: float) -> None:
        """A convex polygon (XY points) extruded from z0 to z1 (ring wedges, fan slices)."""
        p = np.asarray(polygon, float)
        pts = np.vstack([np.column_stack([p, np.full(len(p), z0)]), np.column_stack([p, np.full(len(p), z1)])])
        self._add(part, trimesh.convex.convex_hull(pts))

    def sheet(self, part: str, rings: list[tuple[float, np.ndarray]], thickness: float) -> None:
        """A thin closed sheet lofted through horizontal curves: `rings` are (z, (N, 2) XY polyline) from bottom to
        top, all with N points. Each curve is thickened by `thickness` along its in-plane normal and the strips
        are stitched into one watertight mesh (draped curtains, folded fabric)."""
        zs = [float(z) for z, _ in rings]
        paths = [np.asarray(p, float) for _, p in rings]
        n = len(paths[0])
        if n < 2 or len(rings) < 2 or any(len(p) != n for p in paths):
            raise ValueError("sheet needs at least two rings of the same number (>= 2) of points")
        verts = []
        for z, p in zip(zs, paths):
            tangent = np.gradient(p, axis=0)
            normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
            normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
            # Ring of 2n vertices: one face of the sheet forwards, the other back (a closed loop in plan).
            loop = np.vstack([p + normal * thickness / 2, (p - normal * thickness / 2)[::-1]])
            verts.append(np.column_stack([loop, np.full(2 * n, z)]))
        v = np.vstack(verts)
        m = 2 * n
        faces = []
        for k in range(len(rings) - 1):
            a, c = k * m, (k + 1) * m
            for i in range(m):
                j = (i + 1) % m
                faces += [(a + i, a + j, c + j), (a + i, c + j, c + i)]
        # Caps: the bottom and top loops are strips (i with m-1-i), triangulated as quads.
        for base, flip in ((0, True), ((len(rings) - 1) * m, False)):
            for i in range(n - 1):
                q = (base + i, base + i + 1, base + m - 2 - i, base + m - 1 - i)
                tris = [(q[0], q[1], q[2]), (q[0], q[2], q[3])]
                faces += [t[::-1] for t in tris] if flip else tris
        mesh = trimesh.Trimesh(v, np.asarray(faces), process=True)
        mesh.fix_normals()
        self._add(part, mesh)

    def build(self) -> tuple[Parts, list[PartInfo]]:
        """Merge each part's pieces, add box UVs and the part's material; drop parts that got no pieces."""
        parts: Parts = {}
        infos: list[PartInfo] = []
        for name, pieces in self._pieces.items():
            if not pieces:
                continue
            mesh = box_uv(trimesh.util.concatenate(pieces))
            spec = self._specs[name]
            parts[name] = set_color(mesh, name, spec.color)
            infos.append(PartInfo(name=name, material=spec.material, color=spec.color, faces=len(mesh.faces)))
        return parts, infos


def legs_at(b: Builder, part: str, w: float, d: float, inset: float, z0: float, z1: float, style: str,
            size: float, splay: float = 0.0) -> None:
    """Four legs under a rectangle of width `w` and depth `d`, from height z0 to z1, in one of the styles
    "round", "taper", "square", "hairpin" (thin metal) or "splay" (angled outwards by `splay` metres)."""
    xs, ys = (-w / 2 + inset, w / 2 - inset), (-d / 2 + inset, d / 2 - inset)
    for x in xs:
        for y in ys:
            if style == "square":
                b.box(part, (x - size, y - size, z0), (x + size, y + size, z1))
            elif style == "taper":
                b.cylinder(part, (x, y, z0), z1 - z0, size * 0.55, size, sections=10)
            elif style == "splay":
                dx, dy = np.sign(x) * splay, np.sign(y) * splay
                b.rod(part, (x + dx, y + dy, z0), (x, y, z1), size)
            elif style == "hairpin":
                b.rod(part, (x, y, z0), (x, y, z1), size * 0.35, sections=6)
            else:
                b.cylinder(part, (x, y, z0), z1 - z0, size, sections=10)
