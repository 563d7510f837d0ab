"""Generate the library's JSON graphs (materials_db/library/<category>/<name>.json) from a few templates.

Run ``python -m materials_db.make_library`` after changing a template. The JSON files are the library; this
script only records how they were made. Every template is built from the vocabulary's nodes, uses 2D textures
where the look allows (cheaper twins), and exposes its colours, scales and roughness as parameters.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .graph import FORMAT, Graph


class B:
    """A small graph builder: nodes, links and parameters by name."""

    def __init__(self, name: str, category: str, tags: list[str], description: str):
        self.d = {"format": FORMAT, "name": name, "category": category, "tags": tags,
                  "description": description, "params": {}, "nodes": {}, "output": "bsdf"}

    def p(self, name, default, rng=None, kind=None, optimise=True, choices=None):
        if kind is None:
            kind = "color" if isinstance(default, (list, tuple)) and len(default) == 3 and rng is None else (
                "vector" if isinstance(default, (list, tuple)) else "float")
        e = {"kind": kind, "default": list(default) if isinstance(default, (list, tuple)) else default}
        if rng is not None:
            e["range"] = list(rng)
        if not optimise:
            e["optimise"] = False
        if choices:
            e["choices"] = list(choices)
        self.d["params"][name] = e
        return {"param": name}

    def n(self, nid, type_, inputs=None, props=None, label=None):
        node = {"type": type_}
        if props:
            node["props"] = props
        if inputs:
            node["inputs"] = inputs
        if label:
            node["label"] = label
        self.d["nodes"][nid] = node
        return nid

    @staticmethod
    def l(nid, out):
        return {"link": f"{nid}.{out}"}

    def uv(self, scale=(1.0, 1.0, 1.0), nid="map", rng=(0.05, 40.0), rot=None):
        self.n("uv", "ShaderNodeTexCoord")
        ins = {"Vector": self.l("uv", "UV"), "Scale": self.p(f"{nid}_scale", list(scale), rng, kind="vector")}
        if rot is not None:
            ins["Rotation"] = [0.0, 0.0, rot]
        return self.n(nid, "ShaderNodeMapping", ins)

    def ramp(self, nid, fac, stops, interp="LINEAR", names=None):
        els = []
        for i, (pos, col) in enumerate(stops):
            cname = (names or {}).get(i, f"{nid}_c{i}")
            els.append({"position": pos, "color": self.p(cname, list(col))})
        return self.n(nid, "ShaderNodeValToRGB", {"Fac": fac}, {"interpolation": interp, "elements": els})

    def bsdf(self, base, rough, metal=0.0, normal=None):
        ins = {"Base Color": base, "Roughness": rough, "Metallic": metal}
        if normal is not None:
            ins["Normal"] = normal
        self.n("bsdf", "ShaderNodeBsdfPrincipled", ins)
        return self.d

    def bump(self, height, strength=0.3, distance=0.02, invert=False):
        self.n("bump", "ShaderNodeBump", {"Height": height, "Strength": self.p("bump_strength", strength, (0.0, 1.0)),
                                           "Distance": distance}, {"invert": invert})
        return self.l("bump", "Normal")

    def math(self, nid, op, a, b=0.0, c=0.0):
        """A Math node; returns its Value link."""
        self.n(nid, "ShaderNodeMath", {"A": a, "B": b, "C": c}, {"operation": op})
        return self.l(nid, "Value")

    def fmix(self, nid, f, a, b):
        """A float Mix node ((1 - f) a + f b); returns its Result link."""
        self.n(nid, "ShaderNodeMix", {"Factor": f, "A": a, "B": b}, {"data_type": "FLOAT"})
        return self.l(nid, "Result")

    def uv_scalars(self):
        """u and v as scalar links, unbounded (UVs past 1 keep tiling, unlike a Gradient's clamped output): a vector
        into a float socket is the average of its components, so (3u, 0, 0) gives u."""
        self.n("uv", "ShaderNodeTexCoord")
        self.n("mu", "ShaderNodeMapping", {"Vector": self.l("uv", "UV"), "Scale": [3.0, 0.0, 0.0]})
        self.n("mv", "ShaderNodeMapping", {"Vector": self.l("uv", "UV"), "Scale": [0.0, 3.0, 0.0]})
        return self.math("u", "ADD", self.l("mu", "Vector")), self.math("v", "ADD", self.l("mv", "Vector"))

    def rough_from(self, fac, lo, hi, nid="rough"):
        self.n(nid, "ShaderNodeMapRange", {"Value": fac, "To Min": self.p("rough_min", lo, (0.0, 1.0)),
                                            "To Max": self.p("rough_max", hi, (0.0, 1.0))})
        return self.l(nid, "Result")


# ---------------------------------------------------------------- templates


def planks(name, light, dark, gap=(0.05, 0.03, 0.02), planks_per_tile=4, length=1.0, painted=None, tags=()):
    b = B(name, "wood", ["wood", "floor", "planks", *tags], f"Wood planks, {planks_per_tile} rows per tile")
    m = b.uv((1.0, 1.0, 1.0))
    b.n("grainmap", "ShaderNodeMapping", {"Vector": b.l(m, "Vector"), "Scale": [1.0, 6.0, 1.0]})
    b.n("grain", "ShaderNodeTexWave", {"Vector": b.l("grainmap", "Vector"), "Scale": b.p("grain_scale", 2.0, (0.5, 8.0)),
                                      "Distortion": b.p("grain_distortion", 6.0, (0.0, 20.0)), "Detail": 3.0,
                                      "Detail Scale": 1.5, "Detail Roughness": 0.6},
        {"wave_type": "BANDS", "bands_direction": "Y", "wave_profile": "SIN"})
    b.ramp("woodramp", b.l("grain", "Fac"), [(0.1, dark), (0.9, light)], names={0: "wood_dark", 1: "wood_light"})
    b.n("planks", "ShaderNodeTexBrick", {
        "Vector": b.l(m, "Vector"), "Color1": [1.0, 1.0, 1.0], "Color2": b.p("plank_variation", [0.7, 0.7, 0.7]),
        "Mortar": b.p("gap_color", list(gap)), "Scale": 1.0, "Mortar Size": b.p("gap_size", 0.004, (0.0, 0.02)),
        "Mortar Smooth": 0.2, "Bias": 0.0, "Brick Width": length, "Row Height": 1.0 / planks_per_tile},
        {"offset": 0.5, "offset_frequency": 2, "squash": 1.0, "squash_frequency": 1})
    if painted:
        base_in = b.p("paint_color", list(painted))
        b.n("paint", "ShaderNodeMix", {"Factor": b.p("paint_cover", 0.85, (0.0, 1.0)), "A": b.l("woodramp", "Color"),
                                       "B": base_in}, {"blend_type": "MIX"})
        wood = b.l("paint", "Result")
    else:
        wood = b.l("woodramp", "Color")
    b.n("base", "ShaderNodeMix", {"Factor": 1.0, "A": wood, "B": b.l("planks", "Color")}, {"blend_type": "MULTIPLY"})
    rough = b.rough_from(b.l("grain", "Fac"), 0.45, 0.65)
    b.n("height", "ShaderNodeMath", {"A": b.l("planks", "Fac"), "B": b.l("grain", "Fac"), "C": -0.05},
        {"operation": "MULTIPLY_ADD"})
    return b.bsdf(b.l("base", "Result"), rough, 0.0, b.bump(b.l("height", "Value"), 0.25, 0.01, invert=True))


def parquet(name, light, dark, tags=()):
    """Basket-weave parquet: a checker picks between grain running along u and along v."""
    b = B(name, "wood", ["wood", "floor", "parquet", *tags], "Basket-weave parquet")
    m = b.uv((4.0, 4.0, 1.0), rng=(0.5, 20.0))
    b.n("gx", "ShaderNodeTexWave", {"Vector": b.l(m, "Vector"), "Scale": b.p("grain_scale", 1.5, (0.2, 6.0)),
                                    "Distortion": 4.0, "Detail": 2.0}, {"bands_direction": "X", "wave_profile": "SIN"})
    b.n("gy", "ShaderNodeTexWave", {"Vector": b.l(m, "Vector"), "Scale": b.p("grain_scale2", 1.5, (0.2, 6.0)),
                                    "Distortion": 4.0, "Detail": 2.0}, {"bands_direction": "Y", "wave_profile": "SIN"})
    b.n("check", "ShaderNodeTexChecker", {"Vector": b.l(m, "Vector"), "Color1": [1, 1, 1], "Color2": [0, 0, 0], "Scale": 2.0})
    b.n("sel", "ShaderNodeMix", {"Factor": b.l("check", "Fac"), "A": b.l("gx", "Fac"), "B": b.l("gy", "Fac")},
        {"data_type": "FLOAT"})
    b.ramp("woodramp", b.l("sel", "Result"), [(0.05, dark), (0.95, light)], names={0: "wood_dark", 1: "wood_light"})
    b.n("tiles", "ShaderNodeTexBrick", {"Vector": b.l(m, "Vector"), "Color1": [1, 1, 1], "Color2": [0.8, 0.8, 0.8],
                                       "Mortar": [0.1, 0.07, 0.05], "Scale": 1.0, "Mortar Size": 0.01,
                                       "Brick Width": 0.5, "Row Height": 0.5}, {"offset": 0.0, "offset_frequency": 1, "squash_frequency": 1})
    b.n("base", "ShaderNodeMix", {"Factor": 1.0, "A": b.l("woodramp", "Color"), "B": b.l("tiles", "Color")},
        {"blend_type": "MULTIPLY"})
    rough = b.rough_from(b.l("sel", "Result"), 0.35, 0.55)
    return b.bsdf(b.l("base", "Result"), rough, 0.0, b.bump(b.l("tiles", "Fac"), 0.2, 0.01, invert=True))


def herringbone(name, light, dark, gap=(0.06, 0.04, 0.03), tags=()):
    """2:1 herringbone parquet. With cells of one plank width, (x, y) in cells, i = floor(x), j = floor(y) and
    t = (i - j) mod 4: cells with t in {0, 1} belong to a horizontal plank starting at i - t, cells with t in {2, 3}
    to a vertical plank starting at j - (3 - t). Each plank gets its own tint and grain offset from a Noise lookup at
    a scalar plank id (taken modulo the tile). The pattern repeats every 4 cells, so 8 cells per UV unit tile."""
    b = B(name, "wood", ["wood", "floor", "parquet", "herringbone", *tags], "Herringbone parquet, 2:1 planks")
    math, mix = b.math, b.fmix
    u, v = b.uv_scalars()
    cells = b.p("cells_per_tile", 8.0, (2.0, 32.0))
    x = math("x", "MULTIPLY", u, cells)
    y = math("y", "MULTIPLY", v, cells)
    i, j = math("i", "FLOOR", x), math("j", "FLOOR", y)
    fx, fy = math("fx", "FRACT", x), math("fy", "FRACT", y)
    t = math("t", "FLOORED_MODULO", math("imj", "SUBTRACT", i, j), 4.0)
    horiz = math("horiz", "LESS_THAN", t, 2.0)  # 1 on horizontal planks
    up = math("up", "SUBTRACT", 3.0, t)  # vertical planks: cells above the plank's first one
    along = mix("along", horiz, math("along_v", "ADD", fy, up), math("along_h", "ADD", fx, t))  # 0..2
    across = mix("across", horiz, fx, fy)  # 0..1
    pid_i = mix("pid_i", horiz, i, math("i0", "SUBTRACT", i, t))
    pid_j = mix("pid_j", horiz, math("j0", "SUBTRACT", j, up), j)
    # plank ids modulo the tile, so that a plank crossing the tile's edge keeps one id on both sides
    pid_i = math("pid_i_t", "FLOORED_MODULO", pid_i, cells)
    pid_j = math("pid_j_t", "FLOORED_MODULO", pid_j, cells)
    pid = math("pid", "MULTIPLY_ADD", pid_i, 0.37, math("pid_j2", "MULTIPLY", pid_j, 1.13))
    b.n("tint", "ShaderNodeTexNoise", {"Vector": pid, "Scale": 1.0, "Detail": 0.0}, {"noise_dimensions": "2D"})
    b.n("wobble", "ShaderNodeTexNoise", {"Vector": along, "Scale": 0.6, "Detail": 3.0}, {"noise_dimensions": "2D"})
    g = math("gcoord", "MULTIPLY_ADD", b.l("wobble", "Fac"), b.p("grain_wobble", 0.1, (0.0, 0.6)),
             math("gbase", "MULTIPLY_ADD", pid, 0.731, across))
    b.n("grain", "ShaderNodeTexWave", {"Vector": g, "Scale": b.p("grain_scale", 0.9, (0.3, 6.0)),
                                       "Distortion": b.p("grain_distortion", 4.0, (0.0, 10.0)), "Detail": 3.0},
        {"wave_type": "BANDS", "bands_direction": "X", "wave_profile": "SIN"})
    b.ramp("woodramp", b.l("grain", "Fac"), [(0.1, dark), (0.9, light)], names={0: "wood_dark", 1: "wood_light"})
    b.ramp("tintramp", b.l("tint", "Fac"), [(0.3, [0.72, 0.72, 0.72]), (0.7, [1.0, 1.0, 1.0])],
           names={0: "plank_variation", 1: "plank_tint"})
    b.n("wood", "ShaderNodeMix", {"Factor": 1.0, "A": b.l("woodramp", "Color"), "B": b.l("tintramp", "Color")},
        {"blend_type": "MULTIPLY"})
    # distance to the plank's edge (in cells) -> gap mask: 0 in the gap, 1 on the wood
    edge = math("edge", "MINIMUM", math("e_across", "MINIMUM", across, math("c1", "SUBTRACT", 1.0, across)),
                math("e_along", "MINIMUM", along, math("a2", "SUBTRACT", 2.0, along)))
    b.n("wood_mask", "ShaderNodeMapRange", {"Value": edge, "From Min": 0.0,
                                            "From Max": b.p("gap_size", 0.04, (0.0, 0.2))})
    b.n("base", "ShaderNodeMix", {"Factor": b.l("wood_mask", "Result"), "A": b.p("gap_color", list(gap)),
                                  "B": b.l("wood", "Result")})
    rough = b.rough_from(b.l("grain", "Fac"), 0.4, 0.6)
    height = math("height", "MULTIPLY_ADD", b.l("grain", "Fac"), 0.05, b.l("wood_mask", "Result"))
    return b.bsdf(b.l("base", "Result"), rough, 0.0, b.bump(height, 0.2, 0.01))


def end_grain(name, light, dark):
    b = B(name, "wood", ["wood", "end grain", "blocks"], "End-grain wood blocks: rings inside square blocks")
    m = b.uv((4.0, 4.0, 1.0), rng=(0.5, 20.0))
    b.n("cells", "ShaderNodeTexVoronoi", {"Vector": b.l(m, "Vector"), "Scale": 1.0, "Randomness": 0.0},
        {"voronoi_dimensions": "2D", "feature": "F1"})
    b.n("local", "ShaderNodeMapping", {"Vector": b.l("cells", "Position"), "Scale": [-1.0, -1.0, -1.0]},
        {"vector_type": "VECTOR"})
    b.n("rel", "ShaderNodeMapping", {"Vector": b.l(m, "Vector"), "Location": [0.0, 0.0, 0.0]})
    b.n("rings", "ShaderNodeTexWave", {"Vector": b.l(m, "Vector"), "Scale": b.p("ring_scale", 3.0, (0.5, 10.0)),
                                       "Distortion": b.p("ring_distortion", 3.0, (0.0, 10.0)), "Detail": 2.0},
        {"wave_type": "RINGS", "rings_direction": "Z", "wave_profile": "SAW"})
    b.n("mixr", "ShaderNodeMath", {"A": b.l("rings", "Fac"), "B": b.l("cells", "Distance"), "C": 0.0},
        {"operation": "MULTIPLY_ADD"})
    b.ramp("woodramp", b.l("mixr", "Value"), [(0.0, dark), (1.0, light)], names={0: "wood_dark", 1: "wood_light"})
    rough = b.rough_from(b.l("rings", "Fac"), 0.5, 0.7)
    return b.bsdf(b.l("woodramp", "Color"), rough, 0.0, b.bump(b.l("cells", "Distance"), 0.2, 0.02, invert=True))


def tiles(name, tile, grout, cols=4, rows=4, offset=0.0, variation=0.1, rough=0.15, tags=(), desc=None):
    b = B(name, "tiles", ["tiles", "ceramic", *tags], desc or f"Tiles {cols}x{rows} per UV unit with grout")
    m = b.uv((1.0, 1.0, 1.0))
    b.n("tiles", "ShaderNodeTexBrick", {
        "Vector": b.l(m, "Vector"), "Color1": b.p("tile_color", list(tile)),
        "Color2": b.p("tile_color2", [max(0.0, c * (1 - variation)) for c in tile]),
        "Mortar": b.p("grout_color", list(grout)), "Scale": 1.0, "Mortar Size": b.p("grout_size", 0.006, (0.0, 0.03)),
        "Mortar Smooth": 0.3, "Bias": 0.0, "Brick Width": 1.0 / cols, "Row Height": 1.0 / rows},
        {"offset": offset, "offset_frequency": 2, "squash": 1.0, "squash_frequency": 1})
    b.n("noise", "ShaderNodeTexNoise", {"Vector": b.l(m, "Vector"), "Scale": 30.0, "Detail": 3.0},
        {"noise_dimensions": "2D"})
    b.n("r", "ShaderNodeMix", {"Factor": b.l("tiles", "Fac"), "A": b.p("tile_roughness", rough, (0.0, 1.0)),
                               "B": b.p("grout_roughness", 0.8, (0.0, 1.0))}, {"data_type": "FLOAT"})
    b.n("h", "ShaderNodeMath", {"A": b.l("noise", "Fac"), "B": 0.02, "C": b.l("tiles", "Fac")}, {"operation": "MULTIPLY_ADD"})
    return b.bsdf(b.l("tiles", "Color"), b.l("r", "Result"), 0.0, b.bump(b.l("h", "Value"), 0.4, 0.01, invert=True))


def hex_tiles(name, tile, grout, variation=0.15, rough=0.15, tags=()):
    """Hexagonal tiles with grout, from Math nodes (the vocabulary has no hex lattice). In cell units the hex
    centres are two rectangular lattices of period (1, sqrt 3), the second shifted by half a period; a point
    belongs to the nearer of its two candidate centres, and max(|dx| / 2 + |dy| sqrt(3) / 2, |dx|) is 1/2 on the
    hexagon's edge. 7 x 4 periods per UV unit: tileable, the hexagons 1 % wider than regular (7 / 4 sqrt 3)."""
    b = B(name, "tiles", ["tiles", "ceramic", "hexagonal", *tags], "Hexagonal tiles with grout")
    math, mix = b.math, b.fmix
    u, v = b.uv_scalars()
    sx, sy = 7.0, 4.0 * 3.0 ** 0.5
    scale = b.p("hex_scale", 1.0, (0.25, 8.0))
    x = math("x", "MULTIPLY", math("xs", "MULTIPLY", u, sx), scale)
    y = math("y", "MULTIPLY", math("ys", "MULTIPLY", v, sy), scale)
    px, py = 1.0, 3.0 ** 0.5

    def local(tag, ox, oy):
        """Offset from the centre of the cell of the lattice shifted by (ox, oy)."""
        lx = math(f"{tag}x", "SUBTRACT", math(f"{tag}mx", "FLOORED_MODULO", math(f"{tag}sx", "SUBTRACT", x, ox), px),
                  px / 2)
        ly = math(f"{tag}y", "SUBTRACT", math(f"{tag}my", "FLOORED_MODULO", math(f"{tag}sy", "SUBTRACT", y, oy), py),
                  py / 2)
        d2 = math(f"{tag}d", "MULTIPLY_ADD", lx, lx, math(f"{tag}yy", "MULTIPLY", ly, ly))
        return lx, ly, d2

    ax, ay, ad = local("a", 0.0, 0.0)
    bx, by, bd = local("b", px / 2, py / 2)
    near_a = math("near_a", "LESS_THAN", ad, bd)
    dx, dy = mix("dx", near_a, bx, ax), mix("dy", near_a, by, ay)
    adx, ady = math("adx", "ABSOLUTE", dx), math("ady", "ABSOLUTE", dy)
    hexd = math("hexd", "MAXIMUM", math("slant", "MULTIPLY_ADD", adx, 0.5, math("ady2", "MULTIPLY", ady, py / 2)), adx)
    # grout: 1 within `grout_size` (in cell units) of the edge, smoothed over a fifth of that
    b.n("grout", "ShaderNodeMapRange", {"Value": hexd, "From Min": math("g0", "SUBTRACT", 0.5,
                                                                         b.p("grout_size", 0.05, (0.0, 0.2))),
                                        "From Max": 0.5})
    g = b.l("grout", "Result")
    # per-tile shade: a Noise lookup at a scalar id of the tile's centre, taken modulo the UV tile; centres sit on a
    # (1/2, sqrt(3)/2) grid, rounded to integers first so that a tile cut by the UV edge gets one id on both sides
    cx = math("cx", "FLOORED_MODULO", math("cxi", "ROUND", math("cx0", "MULTIPLY", math("cxd", "SUBTRACT", x, dx),
                                                                  2.0)), 2.0 * sx)
    cy = math("cy", "FLOORED_MODULO", math("cyi", "ROUND", math("cy0", "MULTIPLY", math("cyd", "SUBTRACT", y, dy),
                                                                  2.0 / py)), 8.0)
    tid = math("tid", "MULTIPLY_ADD", cx, 0.37, math("tid_y", "MULTIPLY", cy, 1.13))
    b.n("shade", "ShaderNodeTexNoise", {"Vector": tid, "Scale": 1.0, "Detail": 0.0}, {"noise_dimensions": "2D"})
    b.n("tile", "ShaderNodeMix", {"Factor": b.l("shade", "Fac"), "A": b.p("tile_color2", [max(0.0, c * (1 - variation))
                                                                                          for c in tile]),
                                  "B": b.p("tile_color", list(tile))})
    b.n("base", "ShaderNodeMix", {"Factor": g, "A": b.l("tile", "Result"), "B": b.p("grout_color", list(grout))})
    b.n("noise", "ShaderNodeTexNoise", {"Vector": b.l("uv", "UV"), "Scale": 30.0, "Detail": 3.0},
        {"noise_dimensions": "2D"})
    r = mix("r", g, b.p("tile_roughness", rough, (0.0, 1.0)), b.p("grout_roughness", 0.8, (0.0, 1.0)))
    h = math("h", "MULTIPLY_ADD", b.l("noise", "Fac"), 0.02, g)
    return b.bsdf(b.l("base", "Result"), r, 0.0, b.bump(h, 0.4, 0.01, invert=True))


def noise_surface(name, category, c0, c1, scale=8.0, detail=6.0, rough=(0.6, 0.9), metal=0.0, bump=0.2, tags=(),
                  ntype="FBM", distortion=0.0, stretch=(1.0, 1.0, 1.0), contrast=(0.3, 0.7), desc=None):
    """Generic noise-driven surface: concrete, plaster, paint, fabric fuzz, metals, plastics."""
    b = B(name, category, [category, *tags], desc or f"{category}: noise-driven surface")
    m = b.uv(stretch, rng=(0.05, 200.0))
    b.n("noise", "ShaderNodeTexNoise", {"Vector": b.l(m, "Vector"), "Scale": b.p("noise_scale", scale, (0.5, 200.0)),
                                        "Detail": detail, "Roughness": b.p("noise_roughness", 0.55, (0.0, 1.0)),
                                        "Distortion": distortion}, {"noise_dimensions": "2D", "noise_type": ntype})
    b.ramp("ramp", b.l("noise", "Fac"), [(contrast[0], c0), (contrast[1], c1)], names={0: "color_a", 1: "color_b"})
    r = b.rough_from(b.l("noise", "Fac"), *rough)
    metal_in = b.p("metallic", metal, (0.0, 1.0)) if metal else 0.0
    return b.bsdf(b.l("ramp", "Color"), r, metal_in, b.bump(b.l("noise", "Fac"), bump, 0.01) if bump else None)


def marble(name, base, vein, tags=()):
    b = B(name, "stone", ["stone", "marble", *tags], "Marble: distorted bands for veins")
    m = b.uv((2.0, 2.0, 1.0), rng=(0.2, 10.0))
    b.n("vein", "ShaderNodeTexWave", {"Vector": b.l(m, "Vector"), "Scale": b.p("vein_scale", 1.0, (0.2, 5.0)),
                                      "Distortion": b.p("vein_distortion", 12.0, (0.0, 30.0)), "Detail": 6.0,
                                      "Detail Scale": 1.2, "Detail Roughness": 0.6},
        {"bands_direction": "DIAGONAL", "wave_profile": "TRI"})
    b.n("sharp", "ShaderNodeMath", {"A": b.l("vein", "Fac"), "B": b.p("vein_sharpness", 6.0, (1.0, 20.0))},
        {"operation": "POWER"})
    b.ramp("ramp", b.l("sharp", "Value"), [(0.0, base), (0.6, vein)], names={0: "base_color", 1: "vein_color"})
    return b.bsdf(b.l("ramp", "Color"), b.p("roughness", 0.12, (0.0, 1.0)), 0.0)


def speckled(name, category, base, chip, chip2, scale=40.0, chip_size=0.3, rough=0.4, tags=(), desc=None):
    """Granite / terrazzo: voronoi chips over a noisy base."""
    b = B(name, category, [category, *tags], desc or "Speckled stone: voronoi chips on a noisy base")
    m = b.uv((1.0, 1.0, 1.0))
    b.n("cells", "ShaderNodeTexVoronoi", {"Vector": b.l(m, "Vector"), "Scale": b.p("chip_scale", scale, (2.0, 200.0)),
                                         "Randomness": 1.0}, {"voronoi_dimensions": "2D", "feature": "F1"})
    b.n("chips", "ShaderNodeMapRange", {"Value": b.l("cells", "Distance"), "From Min": b.p("chip_size", chip_size, (0.05, 0.6)),
                                        "From Max": 0.0}, {"interpolation_type": "LINEAR", "clamp": True})
    b.ramp("chipcol", b.l("cells", "Color"), [(0.3, chip), (0.7, chip2)], "CONSTANT", names={0: "chip_a", 1: "chip_b"})
    b.n("noise", "ShaderNodeTexNoise", {"Vector": b.l(m, "Vector"), "Scale": 60.0, "Detail": 4.0}, {"noise_dimensions": "2D"})
    b.ramp("basecol", b.l("noise", "Fac"), [(0.35, [c * 0.85 for c in base]), (0.65, base)], names={0: "base_a", 1: "base_b"})
    b.n("mix", "ShaderNodeMix", {"Factor": b.l("chips", "Result"), "A": b.l("basecol", "Color"), "B": b.l("chipcol", "Color")})
    return b.bsdf(b.l("mix", "Result"), b.p("roughness", rough, (0.0, 1.0)), 0.0,
                  b.bump(b.l("chips", "Result"), 0.1, 0.005))


def slate(name, c0, c1):
    b = B(name, "stone", ["stone", "slate"], "Slate: layered ridged noise")
    m = b.uv((1.0, 3.0, 1.0), rng=(0.2, 20.0))
    b.n("noise", "ShaderNodeTexNoise", {"Vector": b.l(m, "Vector"), "Scale": b.p("noise_scale", 4.0, (0.5, 30.0)),
                                        "Detail": 6.0, "Roughness": 0.6, "Offset": 1.0, "Gain": 1.0},
        {"noise_dimensions": "2D", "noise_type": "RIDGED_MULTIFRACTAL"})
    b.n("norm", "ShaderNodeMapRange", {"Value": b.l("noise", "Fac"), "From Min": 0.0, "From Max": 1.6})
    b.ramp("ramp", b.l("norm", "Result"), [(0.2, c0), (0.9, c1)], names={0: "color_a", 1: "color_b"})
    r = b.rough_from(b.l("norm", "Result"), 0.5, 0.8)
    return b.bsdf(b.l("ramp", "Color"), r, 0.0, b.bump(b.l("norm", "Result"), 0.3, 0.01))


def stripes(name, c0, c1, scale=4.0, duty=0.5, profile="SAW", direction="X", tags=()):
    b = B(name, "wallpaper", ["wallpaper", "stripes", *tags], "Striped wallpaper")
    m = b.uv((1.0, 1.0, 1.0))
    b.n("wave", "ShaderNodeTexWave", {"Vector": b.l(m, "Vector"), "Scale": b.p("stripe_scale", scale / 3.183, (0.1, 10.0))},
        {"bands_direction": direction, "wave_profile": profile})
    b.ramp("ramp", b.l("wave", "Fac"), [(0.0, c0), (duty, c1)], "CONSTANT", names={0: "color_a", 1: "color_b"})
    b.n("noise", "ShaderNodeTexNoise", {"Vector": b.l(m, "Vector"), "Scale": 80.0, "Detail": 2.0}, {"noise_dimensions": "2D"})
    r = b.rough_from(b.l("noise", "Fac"), 0.55, 0.75)
    return b.bsdf(b.l("ramp", "Color"), r, 0.0, b.bump(b.l("noise", "Fac"), 0.05, 0.01))


def dots(name, bg, dot, scale=12.0, size=0.25):
    b = B(name, "wallpaper", ["wallpaper", "dots", "polka"], "Polka-dot wallpaper")
    m = b.uv((1.0, 1.0, 1.0))
    b.n("cells", "ShaderNodeTexVoronoi", {"Vector": b.l(m, "Vector"), "Scale": b.p("dot_scale", scale, (2.0, 60.0)),
                                         "Randomness": 0.0}, {"voronoi_dimensions": "2D"})
    b.n("disc", "ShaderNodeMapRange", {"Value": b.l("cells", "Distance"), "From Min": b.p("dot_size", size, (0.05, 0.5)),
                                       "From Max": b.p("dot_edge", size - 0.02, (0.0, 0.5))})
    b.n("mix", "ShaderNodeMix", {"Factor": b.l("disc", "Result"), "A": b.p("background", list(bg)), "B": b.p("dot_color", list(dot))})
    return b.bsdf(b.l("mix", "Result"), b.p("roughness", 0.6, (0.0, 1.0)), 0.0)


def damask(name, bg, fg):
    b = B(name, "wallpaper", ["wallpaper", "damask", "ornament"], "Damask-like ornament: mirrored rings on a lattice")
    m = b.uv((1.0, 1.0, 1.0))
    b.n("cells", "ShaderNodeTexVoronoi", {"Vector": b.l(m, "Vector"), "Scale": b.p("motif_scale", 6.0, (1.0, 30.0)),
                                         "Randomness": 0.0}, {"voronoi_dimensions": "2D", "distance": "MANHATTAN"})
    b.n("rings", "ShaderNodeMath", {"A": b.l("cells", "Distance"), "B": b.p("ring_freq", 18.0, (2.0, 40.0))}, {"operation": "MULTIPLY"})
    b.n("s", "ShaderNodeMath", {"A": b.l("rings", "Value")}, {"operation": "SINE"})
    b.n("m", "ShaderNodeMapRange", {"Value": b.l("s", "Value"), "From Min": 0.2, "From Max": 0.6})
    b.n("mix", "ShaderNodeMix", {"Factor": b.l("m", "Result"), "A": b.p("background", list(bg)), "B": b.p("motif_color", list(fg))})
    return b.bsdf(b.l("mix", "Result"), b.p("roughness", 0.5, (0.0, 1.0)), 0.0)


def weave(name, c0, c1, scale=60.0, tags=(), diagonal=False, rough=0.85, category="fabric", desc=None):
    b = B(name, category, [category, "weave", *tags], desc or "Woven fabric: crossing warp and weft bands")
    m = b.uv((1.0, 1.0, 1.0), rot=0.7853981 if diagonal else None)
    b.n("warp", "ShaderNodeTexWave", {"Vector": b.l(m, "Vector"), "Scale": b.p("thread_scale", scale, (5.0, 200.0)),
                                      "Distortion": 0.5, "Detail": 1.0}, {"bands_direction": "X", "wave_profile": "SIN"})
    b.n("weft", "ShaderNodeTexWave", {"Vector": b.l(m, "Vector"), "Scale": b.p("thread_scale2", scale, (5.0, 200.0)),
                                      "Distortion": 0.5, "Detail": 1.0}, {"bands_direction": "Y", "wave_profile": "SIN"})
    b.n("check", "ShaderNodeTexChecker", {"Vector": b.l(m, "Vector"), "Color1": [1, 1, 1], "Color2": [0, 0, 0],
                                          "Scale": b.p("check_scale", scale * 0.3183, (1.0, 100.0))})
    b.n("sel", "ShaderNodeMix", {"Factor": b.l("check", "Fac"), "A": b.l("warp", "Fac"), "B": b.l("weft", "Fac")},
        {"data_type": "FLOAT"})
    b.n("noise", "ShaderNodeTexNoise", {"Vector": b.l(m, "Vector"), "Scale": 6.0, "Detail": 3.0}, {"noise_dimensions": "2D"})
    b.n("fac", "ShaderNodeMath", {"A": b.l("sel", "Result"), "B": 0.6, "C": b.l("noise", "Fac")}, {"operation": "MULTIPLY_ADD"})
    b.ramp("ramp", b.l("fac", "Value"), [(0.3, c0), (1.0, c1)],
           names={0: "color_a", 1: "color_b"})
    return b.bsdf(b.l("ramp", "Color"), b.p("roughness", rough, (0.0, 1.0)), 0.0, b.bump(b.l("sel", "Result"), 0.3, 0.005))


def leather(name, c0, c1):
    b = B(name, "fabric", ["fabric", "leather"], "Leather: voronoi pebble grain")
    m = b.uv((1.0, 1.0, 1.0))
    b.n("cells", "ShaderNodeTexVoronoi", {"Vector": b.l(m, "Vector"), "Scale": b.p("grain_scale", 80.0, (10.0, 300.0))},
        {"voronoi_dimensions": "2D", "feature": "DISTANCE_TO_EDGE"})
    b.n("noise", "ShaderNodeTexNoise", {"Vector": b.l(m, "Vector"), "Scale": 4.0, "Detail": 4.0}, {"noise_dimensions": "2D"})
    b.ramp("ramp", b.l("noise", "Fac"), [(0.3, c0), (0.7, c1)], names={0: "color_a", 1: "color_b"})
    r = b.rough_from(b.l("cells", "Distance"), 0.35, 0.6)
    return b.bsdf(b.l("ramp", "Color"), r, 0.0, b.bump(b.l("cells", "Distance"), 0.4, 0.005))


def metal(name, color, rough, brushed=False):
    b = B(name, "metal", ["metal", "brushed" if brushed else "polished"], "Brushed metal" if brushed else "Polished metal")
    m = b.uv((1.0, 80.0, 1.0) if brushed else (1.0, 1.0, 1.0), rng=(0.05, 300.0))
    b.n("noise", "ShaderNodeTexNoise", {"Vector": b.l(m, "Vector"), "Scale": b.p("noise_scale", 20.0 if brushed else 6.0, (0.5, 100.0)),
                                        "Detail": 4.0}, {"noise_dimensions": "2D"})
    r = b.rough_from(b.l("noise", "Fac"), rough * 0.7, rough * 1.3)
    b.n("tint", "ShaderNodeMix", {"Factor": b.l("noise", "Fac"), "A": b.p("color_dark", [c * 0.85 for c in color]),
                                  "B": b.p("color", list(color))})
    return b.bsdf(b.l("tint", "Result"), r, b.p("metallic", 1.0, (0.0, 1.0)),
                  b.bump(b.l("noise", "Fac"), 0.05, 0.005) if brushed else None)


def carpet(name, c0, c1, pattern=None):
    b = B(name, "carpet", ["carpet", "rug", *([pattern] if pattern else [])], "Carpet pile" + (f" with {pattern}" if pattern else ""))
    m = b.uv((1.0, 1.0, 1.0))
    b.n("pile", "ShaderNodeTexNoise", {"Vector": b.l(m, "Vector"), "Scale": b.p("pile_scale", 150.0, (20.0, 400.0)),
                                       "Detail": 2.0, "Distortion": 0.3}, {"noise_dimensions": "2D"})
    b.ramp("ramp", b.l("pile", "Fac"), [(0.3, c0), (0.7, c1)], names={0: "color_a", 1: "color_b"})
    base = b.l("ramp", "Color")
    if pattern == "stripes":
        b.n("pat", "ShaderNodeTexWave", {"Vector": b.l(m, "Vector"), "Scale": b.p("stripe_scale", 2.0, (0.2, 10.0))},
            {"bands_direction": "X", "wave_profile": "SIN"})
    elif pattern == "checks":
        b.n("pat", "ShaderNodeTexChecker", {"Vector": b.l(m, "Vector"), "Color1": [1, 1, 1], "Color2": [0, 0, 0],
                                           "Scale": b.p("check_scale", 6.0, (1.0, 30.0))})
    if pattern:
        b.n("patmix", "ShaderNodeMix", {"Factor": b.l("pat", "Fac"), "A": base, "B": b.p("pattern_color", [0.6, 0.55, 0.45])},
            {"blend_type": "MULTIPLY"})
        base = b.l("patmix", "Result")
    return b.bsdf(base, b.p("roughness", 0.95, (0.0, 1.0)), 0.0, b.bump(b.l("pile", "Fac"), 0.5, 0.005))


def cardboard(name, c0, c1, corrugated=True):
    b = B(name, "paper", ["paper", "cardboard" if corrugated else "paper"], "Cardboard" if corrugated else "Paper")
    m = b.uv((1.0, 1.0, 1.0))
    b.n("fib", "ShaderNodeTexNoise", {"Vector": b.l(m, "Vector"), "Scale": b.p("fibre_scale", 120.0, (10.0, 400.0)),
                                      "Detail": 6.0, "Roughness": 0.7}, {"noise_dimensions": "2D"})
    b.ramp("ramp", b.l("fib", "Fac"), [(0.35, c0), (0.65, c1)], names={0: "color_a", 1: "color_b"})
    if corrugated:
        b.n("flute", "ShaderNodeTexWave", {"Vector": b.l(m, "Vector"), "Scale": b.p("flute_scale", 4.0, (1.0, 20.0))},
            {"bands_direction": "X"})
        b.n("h", "ShaderNodeMath", {"A": b.l("fib", "Fac"), "B": 0.2, "C": b.l("flute", "Fac")}, {"operation": "MULTIPLY_ADD"})
        h = b.l("h", "Value")
    else:
        h = b.l("fib", "Fac")
    return b.bsdf(b.l("ramp", "Color"), b.p("roughness", 0.9, (0.0, 1.0)), 0.0, b.bump(h, 0.2, 0.005))


def materials() -> list[dict]:
    out = [
        planks("oak_planks", [0.55, 0.36, 0.18], [0.32, 0.18, 0.08], tags=["oak"]),
        planks("walnut_planks", [0.30, 0.17, 0.09], [0.12, 0.06, 0.03], tags=["walnut", "dark"]),
        planks("pine_boards", [0.72, 0.52, 0.30], [0.50, 0.32, 0.15], planks_per_tile=3, tags=["pine", "light"]),
        planks("maple_strip", [0.78, 0.62, 0.42], [0.60, 0.44, 0.26], planks_per_tile=8, length=0.5, tags=["maple", "light"]),
        planks("grey_oak_planks", [0.45, 0.42, 0.38], [0.25, 0.23, 0.21], tags=["oak", "grey", "weathered"]),
        planks("cherry_planks", [0.50, 0.22, 0.11], [0.28, 0.10, 0.05], planks_per_tile=5, tags=["cherry", "red"]),
        planks("painted_wood_white", [0.6, 0.45, 0.3], [0.4, 0.28, 0.15], painted=[0.85, 0.85, 0.82], tags=["painted", "white"]),
        planks("painted_wood_blue", [0.6, 0.45, 0.3], [0.4, 0.28, 0.15], painted=[0.15, 0.25, 0.45], tags=["painted", "blue"]),
        parquet("oak_parquet_basketweave", [0.55, 0.36, 0.18], [0.30, 0.17, 0.08]),
        parquet("teak_parquet_basketweave", [0.45, 0.26, 0.10], [0.22, 0.11, 0.04], tags=["teak"]),
        herringbone("oak_herringbone", [0.58, 0.38, 0.19], [0.33, 0.19, 0.08], tags=["oak"]),
        herringbone("walnut_herringbone", [0.32, 0.18, 0.09], [0.13, 0.065, 0.03], tags=["walnut", "dark"]),
        end_grain("end_grain_blocks", [0.62, 0.42, 0.22], [0.30, 0.17, 0.07]),
        tiles("white_square_tiles", [0.85, 0.85, 0.83], [0.55, 0.55, 0.52], 4, 4, tags=["square", "white", "bathroom"]),
        tiles("black_square_tiles", [0.04, 0.04, 0.045], [0.6, 0.6, 0.58], 4, 4, tags=["square", "black"]),
        tiles("subway_tiles_white", [0.88, 0.88, 0.86], [0.45, 0.45, 0.43], 4, 8, offset=0.5, tags=["subway", "white", "kitchen"]),
        tiles("subway_tiles_green", [0.15, 0.35, 0.25], [0.75, 0.75, 0.72], 4, 8, offset=0.5, tags=["subway", "green"]),
        tiles("large_floor_tiles_beige", [0.62, 0.55, 0.45], [0.40, 0.36, 0.30], 2, 2, rough=0.3, tags=["floor", "beige"]),
        tiles("terracotta_tiles", [0.55, 0.25, 0.12], [0.5, 0.45, 0.38], 3, 3, variation=0.25, rough=0.7, tags=["terracotta", "floor"]),
        tiles("offset_floor_tiles_grey", [0.45, 0.45, 0.45], [0.3, 0.3, 0.3], 2, 4, offset=0.5, rough=0.4, tags=["offset", "grey", "floor"]),
        hex_tiles("hex_tiles_white", [0.86, 0.86, 0.84], [0.5, 0.5, 0.48], tags=["white", "bathroom", "floor"]),
        hex_tiles("hex_tiles_terracotta", [0.58, 0.27, 0.14], [0.45, 0.42, 0.38], variation=0.3, rough=0.6,
                  tags=["terracotta", "floor"]),
        tiles("mosaic_tiles_blue", [0.15, 0.35, 0.6], [0.8, 0.8, 0.8], 16, 16, variation=0.35, tags=["mosaic", "blue", "bathroom"]),
        tiles("brick_wall_red", [0.45, 0.16, 0.08], [0.55, 0.52, 0.48], 4, 12, offset=0.5, variation=0.3, rough=0.85,
              tags=["brick", "wall", "red"], desc="Red brick wall with mortar"),
        marble("marble_carrara", [0.85, 0.85, 0.84], [0.35, 0.36, 0.38], tags=["white"]),
        marble("marble_nero", [0.03, 0.03, 0.035], [0.75, 0.75, 0.72], tags=["black"]),
        marble("marble_green", [0.08, 0.22, 0.15], [0.7, 0.75, 0.7], tags=["green"]),
        speckled("granite_grey", "stone", [0.35, 0.35, 0.36], [0.05, 0.05, 0.05], [0.8, 0.78, 0.75], 90.0, 0.35, 0.25, ["granite"]),
        speckled("granite_black", "stone", [0.06, 0.06, 0.065], [0.3, 0.3, 0.3], [0.55, 0.5, 0.45], 80.0, 0.25, 0.15, ["granite", "black"]),
        speckled("terrazzo_white", "stone", [0.82, 0.8, 0.76], [0.6, 0.25, 0.2], [0.2, 0.3, 0.45], 25.0, 0.3, 0.3, ["terrazzo"],
                 "Terrazzo: coloured chips in a pale cement"),
        speckled("terrazzo_grey", "stone", [0.45, 0.45, 0.44], [0.85, 0.85, 0.8], [0.1, 0.1, 0.1], 30.0, 0.25, 0.35, ["terrazzo"]),
        slate("slate_dark", [0.08, 0.09, 0.1], [0.2, 0.21, 0.23]),
        slate("slate_rust", [0.12, 0.09, 0.07], [0.35, 0.22, 0.12]),
        noise_surface("concrete_smooth", "concrete", [0.35, 0.35, 0.34], [0.55, 0.55, 0.53], 6.0, 8.0, (0.7, 0.95), tags=["smooth"]),
        noise_surface("concrete_rough", "concrete", [0.28, 0.28, 0.27], [0.5, 0.5, 0.48], 20.0, 8.0, (0.8, 1.0), bump=0.5, tags=["rough"]),
        noise_surface("concrete_warm", "concrete", [0.4, 0.37, 0.33], [0.6, 0.56, 0.5], 8.0, 6.0, (0.7, 0.9), tags=["warm"]),
        noise_surface("plaster_white", "plaster", [0.78, 0.77, 0.75], [0.86, 0.85, 0.83], 12.0, 6.0, (0.8, 0.95), bump=0.15, tags=["wall", "white"]),
        noise_surface("plaster_venetian", "plaster", [0.6, 0.55, 0.48], [0.8, 0.76, 0.68], 3.0, 8.0, (0.2, 0.5), bump=0.05,
                      distortion=1.5, tags=["wall", "polished"]),
        noise_surface("stucco_beige", "plaster", [0.62, 0.56, 0.46], [0.75, 0.7, 0.6], 60.0, 4.0, (0.85, 1.0), bump=0.6, tags=["wall", "rough"]),
        noise_surface("wall_paint_white", "paint", [0.82, 0.82, 0.8], [0.85, 0.85, 0.83], 40.0, 3.0, (0.75, 0.85), bump=0.05, tags=["wall", "matte", "white"]),
        noise_surface("wall_paint_grey", "paint", [0.45, 0.46, 0.47], [0.48, 0.49, 0.5], 40.0, 3.0, (0.75, 0.85), bump=0.05, tags=["wall", "matte", "grey"]),
        noise_surface("wall_paint_sage", "paint", [0.42, 0.48, 0.38], [0.45, 0.51, 0.41], 40.0, 3.0, (0.7, 0.8), bump=0.05, tags=["wall", "green"]),
        noise_surface("wall_paint_terracotta", "paint", [0.55, 0.28, 0.18], [0.58, 0.3, 0.2], 40.0, 3.0, (0.7, 0.8), bump=0.05, tags=["wall", "warm"]),
        noise_surface("wall_paint_navy", "paint", [0.06, 0.09, 0.18], [0.08, 0.11, 0.2], 40.0, 3.0, (0.5, 0.6), bump=0.05, tags=["wall", "blue", "satin"]),
        stripes("wallpaper_stripes_cream", [0.85, 0.8, 0.68], [0.7, 0.6, 0.45]),
        stripes("wallpaper_stripes_blue", [0.8, 0.82, 0.85], [0.2, 0.3, 0.5], 8.0, 0.3),
        stripes("wallpaper_pinstripe_grey", [0.6, 0.6, 0.6], [0.3, 0.3, 0.3], 20.0, 0.85),
        dots("wallpaper_dots_pink", [0.85, 0.7, 0.72], [0.9, 0.9, 0.88]),
        dots("wallpaper_dots_navy", [0.08, 0.1, 0.2], [0.85, 0.8, 0.6], 20.0, 0.15),
        damask("wallpaper_damask_gold", [0.35, 0.08, 0.08], [0.7, 0.55, 0.25]),
        damask("wallpaper_damask_grey", [0.55, 0.55, 0.56], [0.75, 0.75, 0.76]),
        weave("linen_natural", [0.55, 0.5, 0.42], [0.72, 0.68, 0.6], 80.0, ["linen"]),
        weave("linen_white", [0.7, 0.7, 0.68], [0.85, 0.85, 0.83], 80.0, ["linen", "white"]),
        weave("denim_blue", [0.05, 0.08, 0.2], [0.25, 0.32, 0.5], 100.0, ["denim", "twill"], diagonal=True),
        weave("canvas_olive", [0.22, 0.24, 0.14], [0.35, 0.37, 0.24], 50.0, ["canvas"]),
        weave("knit_wool_red", [0.3, 0.03, 0.03], [0.55, 0.1, 0.08], 30.0, ["knit", "wool"], rough=0.95),
        noise_surface("velvet_green", "fabric", [0.02, 0.12, 0.06], [0.06, 0.3, 0.15], 5.0, 3.0, (0.85, 1.0), bump=0.1, tags=["velvet"]),
        noise_surface("velvet_burgundy", "fabric", [0.15, 0.01, 0.03], [0.35, 0.04, 0.08], 5.0, 3.0, (0.85, 1.0), bump=0.1, tags=["velvet"]),
        leather("leather_brown", [0.15, 0.07, 0.03], [0.3, 0.15, 0.07]),
        leather("leather_black", [0.015, 0.015, 0.015], [0.05, 0.045, 0.04]),
        leather("leather_tan", [0.4, 0.22, 0.1], [0.55, 0.33, 0.16]),
        carpet("carpet_grey", [0.25, 0.25, 0.26], [0.38, 0.38, 0.39]),
        carpet("carpet_beige", [0.5, 0.44, 0.35], [0.62, 0.56, 0.46]),
        carpet("rug_striped", [0.5, 0.45, 0.4], [0.65, 0.6, 0.52], "stripes"),
        carpet("rug_checked", [0.4, 0.12, 0.1], [0.55, 0.2, 0.15], "checks"),
        metal("brushed_steel", [0.56, 0.57, 0.58], 0.35, brushed=True),
        metal("brushed_aluminium", [0.91, 0.92, 0.92], 0.3, brushed=True),
        metal("polished_chrome", [0.55, 0.56, 0.56], 0.05),
        metal("polished_brass", [0.91, 0.78, 0.42], 0.12),
        metal("copper", [0.95, 0.64, 0.54], 0.2),
        metal("brushed_gold", [1.0, 0.77, 0.34], 0.3, brushed=True),
        noise_surface("plastic_white_glossy", "plastic", [0.8, 0.8, 0.8], [0.82, 0.82, 0.82], 10.0, 2.0, (0.05, 0.1), bump=0.0, tags=["glossy"]),
        noise_surface("plastic_black_matte", "plastic", [0.02, 0.02, 0.02], [0.03, 0.03, 0.03], 10.0, 2.0, (0.5, 0.6), bump=0.02, tags=["matte"]),
        noise_surface("plastic_red", "plastic", [0.6, 0.04, 0.03], [0.62, 0.05, 0.04], 10.0, 2.0, (0.2, 0.3), bump=0.0, tags=["glossy", "red"]),
        noise_surface("rubber_dark", "plastic", [0.03, 0.03, 0.03], [0.06, 0.06, 0.06], 40.0, 3.0, (0.8, 0.95), bump=0.1, tags=["rubber"]),
        noise_surface("ceramic_white_glazed", "ceramic", [0.85, 0.85, 0.83], [0.88, 0.88, 0.86], 4.0, 2.0, (0.03, 0.08), bump=0.02, tags=["glazed", "white"]),
        noise_surface("ceramic_celadon", "ceramic", [0.45, 0.58, 0.5], [0.52, 0.65, 0.56], 3.0, 3.0, (0.05, 0.12), bump=0.02, tags=["glazed", "green"]),
        noise_surface("stoneware_speckled", "ceramic", [0.6, 0.55, 0.48], [0.7, 0.65, 0.58], 90.0, 2.0, (0.4, 0.6), bump=0.05, tags=["matte"]),
        cardboard("cardboard_corrugated", [0.45, 0.32, 0.2], [0.55, 0.4, 0.26]),
        cardboard("paper_white", [0.82, 0.82, 0.8], [0.88, 0.88, 0.86], corrugated=False),
        cardboard("kraft_paper", [0.5, 0.36, 0.22], [0.6, 0.45, 0.3], corrugated=False),
    ]
    return out


def main() -> None:
    root = Path(__file__).parent / "library"
    if root.exists():
        shutil.rmtree(root)
    for d in materials():
        g = Graph.from_dict(d)  # validates
        path = root / g.category / f"{g.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(d, indent=1) + "\n")
    print(f"wrote {len(materials())} materials under {root}")


if __name__ == "__main__":
    main()
