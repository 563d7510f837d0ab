"""Mesh files in bundles: Wavefront OBJ with UVs, written without dependencies (the add-on parses them back)."""

from __future__ import annotations

import io

import numpy as np


def obj_bytes(vertices: np.ndarray, faces: np.ndarray, uvs: np.ndarray | None = None) -> bytes:
    """OBJ text of a triangle mesh; `uvs` per vertex when given (then each face corner uses its vertex's UV)."""
    out = io.StringIO()
    out.write("# photo2scene mesh: metres, Z up\n")
    np.savetxt(out, np.asarray(vertices, float), fmt="v %.6f %.6f %.6f")
    f = np.asarray(faces, int) + 1
    if uvs is not None and len(uvs) == len(vertices):
        np.savetxt(out, np.asarray(uvs, float)[:, :2], fmt="vt %.6f %.6f")
        np.savetxt(out, np.repeat(f, 2, axis=1), fmt="f %d/%d %d/%d %d/%d")
    else:
        np.savetxt(out, f, fmt="f %d %d %d")
    return out.getvalue().encode()
