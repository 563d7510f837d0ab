"""glTF files with quantised vertex data (KHR_mesh_quantization), read at their true size.

gltfpack and the Poly Haven downloads store positions, normals and texture coordinates as normalised
integers (a SHORT position means value / 32767, scaled by the node's transform). trimesh reads those integers
as plain numbers, so a 0.2 m vase came out 6.6 km tall (and "units-guess" then made it 6.6 m). Here every
normalised attribute accessor is decoded to float32 into an extra buffer before trimesh parses the file, so the
geometry, the UVs and the normals are the ones Blender's importer sees.
"""

from __future__ import annotations

import base64
import io
import json
import struct
from pathlib import Path

import numpy as np
import trimesh

GLB_MAGIC = 0x46546C67  # "glTF"
JSON_CHUNK, BIN_CHUNK = 0x4E4F534A, 0x004E4942
FLOAT = 5126
# Normalised integer component types: numpy type and the divisor of the spec's decoding formula.
INTEGER_TYPES = {5120: (np.int8, 127.0), 5121: (np.uint8, 255.0), 5122: (np.int16, 32767.0),
                 5123: (np.uint16, 65535.0)}
COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
DECODED_ATTRIBUTES = ("POSITION", "NORMAL", "TANGENT", "TEXCOORD_")


def load_scene(path: Path) -> trimesh.Scene:
    """`trimesh.load(path, force="scene")`, with normalised-integer glTF attributes decoded first."""
    path = Path(path)
    if path.suffix.lower() not in (".gltf", ".glb"):
        return trimesh.load(str(path), force="scene")
    header, buffers = read_gltf(path)
    quantised = _normalised_accessors(header)
    if not quantised:
        return trimesh.load(str(path), force="scene")
    blob = bytearray()
    for index in sorted(quantised):
        accessor = header["accessors"][index]
        data = _decode(header, buffers, accessor).astype("<f4").tobytes()
        offset = len(blob)
        blob += data + b"\0" * (-len(data) % 4)
        accessor.update(componentType=FLOAT, byteOffset=0)
        accessor.pop("normalized", None)
        for key in ("min", "max"):  # bounds are in the stored (integer) units: decode them like the data
            if key in accessor:
                accessor[key] = [float(v) for v in decode_normalised(np.asarray(accessor[key], float),
                                                               quantised[index])]
        accessor["bufferView"] = len(header["bufferViews"])
        header["bufferViews"].append({"buffer": len(header["buffers"]), "byteOffset": offset,
                                      "byteLength": len(data)})
    header["buffers"].append({"byteLength": len(blob),
                              "uri": "data:application/octet-stream;base64," + base64.b64encode(blob).decode()})
    used = set(header.get("extensionsRequired", [])) - {"KHR_mesh_quantization"}
    if "extensionsRequired" in header:
        header["extensionsRequired"] = sorted(used)
    if path.suffix.lower() == ".glb":
        return trimesh.load(io.BytesIO(_glb(header, buffers[0])), file_type="glb", force="scene")
    resolver = trimesh.resolvers.FilePathResolver(str(path))
    return trimesh.load(io.BytesIO(json.dumps(header).encode()), file_type="gltf", force="scene", resolver=resolver)


def read_gltf(path: Path) -> tuple[dict, list[bytes | None]]:
    """A glTF/GLB file's JSON header and the buffers it names (a .glb's own binary chunk, files beside a .gltf,
    data URIs)."""
    data = path.read_bytes()
    if path.suffix.lower() == ".glb":
        magic, _version, _length = struct.unpack_from("<III", data, 0)
        if magic != GLB_MAGIC:
            raise ValueError(f"{path} is not a binary glTF (bad magic number)")
        offset, header, chunks = 12, None, []
        while offset + 8 <= len(data):
            size, kind = struct.unpack_from("<II", data, offset)
            chunk = data[offset + 8:offset + 8 + size]
            if kind == JSON_CHUNK:
                header = json.loads(chunk.decode("utf-8"))
            elif kind == BIN_CHUNK:
                chunks.append(chunk)
            offset += 8 + size
        if header is None:
            raise ValueError(f"{path} has no JSON chunk")
    else:
        header, chunks = json.loads(data.decode("utf-8")), []
    buffers: list[bytes | None] = []
    for i, buffer in enumerate(header.get("buffers", [])):
        uri = buffer.get("uri")
        if uri is None:
            buffers.append(chunks[0] if chunks and i == 0 else None)
        elif uri.startswith("data:"):
            buffers.append(base64.b64decode(uri.split(",", 1)[1]))
        else:
            buffers.append((path.parent / uri).read_bytes())
    header.setdefault("bufferViews", [])
    header.setdefault("buffers", [])
    return header, buffers


def _normalised_accessors(header: dict) -> dict[int, int]:
    """{accessor index: component type} of the mesh attributes stored as normalised integers."""
    found: dict[int, int] = {}
    for mesh in header.get("meshes", []):
        for primitive in mesh.get("primitives", []):
            targets = [primitive.get("attributes", {})] + list(primitive.get("targets", []))
            for attributes in targets:
                for name, index in attributes.items():
                    accessor = header["accessors"][index]
                    if (name.startswith(DECODED_ATTRIBUTES) and accessor.get("normalized")
                            and accessor.get("componentType") in INTEGER_TYPES and "bufferView" in accessor
                            and "sparse" not in accessor):
                        found[index] = accessor["componentType"]
    return found


def _decode(header: dict, buffers: list, accessor: dict) -> np.ndarray:
    """The accessor's values as floats, (count, components), honouring the view's byte stride."""
    dtype, _ = INTEGER_TYPES[accessor["componentType"]]
    view = header["bufferViews"][accessor["bufferView"]]
    data = buffers[view.get("buffer", 0)]
    if data is None:
        raise ValueError("a glTF buffer this model uses is missing")
    width = COMPONENTS[accessor["type"]]
    itemsize = np.dtype(dtype).itemsize
    stride = view.get("byteStride") or width * itemsize
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    count = accessor["count"]
    raw = np.frombuffer(data, np.uint8, count=(count - 1) * stride + width * itemsize, offset=start)
    rows = np.lib.stride_tricks.as_strided(raw, shape=(count, width * itemsize), strides=(stride, 1))
    values = np.ascontiguousarray(rows).view(np.dtype(dtype).newbyteorder("<")).reshape(count, width)
    return decode_normalised(values.astype(np.float64), accessor["componentType"])


def decode_normalised(values: np.ndarray, component_type: int) -> np.ndarray:
    """The glTF decoding of normalised integers: unsigned v / max, signed max(v / max, -1)."""
    _, divisor = INTEGER_TYPES[component_type]
    out = values / divisor
    return np.maximum(out, -1.0) if component_type in (5120, 5122) else out


def _glb(header: dict, binary: bytes | None) -> bytes:
    """A binary glTF from a header and its first buffer."""
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 4)
    out = struct.pack("<II", len(text), JSON_CHUNK) + text
    if binary is not None:
        binary = bytes(binary) + b"\0" * (-len(binary) % 4)
        out += struct.pack("<II", len(binary), BIN_CHUNK) + binary
    return struct.pack("<III", GLB_MAGIC, 2, 12 + len(out)) + out
