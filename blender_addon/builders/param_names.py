"""Human names for material-graph parameters ("grain_scale" -> "Grain scale"), bpy-free.

The add-on labels nodes and the parameter group's inputs with them, and materials_db's `Param.human_name` uses
the same function, so a library graph and its Blender tree name a parameter alike. A parameter's own `label`
(graph metadata) wins over the derived name.
"""

from __future__ import annotations

import re

# words of parameter ids that read badly as they are (abbreviations, American spelling)
_WORDS = {
    "rough": "roughness", "color": "colour", "col": "colour", "freq": "frequency", "map": "texture",
    "a": "A", "b": "B", "var": "variation", "img": "image", "tex": "texture", "uv": "UV",
}


def humanise(name: str) -> str:
    """'grain_scale2' -> 'Grain scale 2', 'rough_min' -> 'Roughness min', 'color_a' -> 'Colour A'."""
    parts = [p for p in re.split(r"[_\s]+|(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", str(name)) if p]
    words = [_WORDS.get(p.lower(), p.lower()) for p in parts]
    if not words:
        return str(name)
    text = " ".join(words)
    return text[0].upper() + text[1:]


def param_label(name: str, spec: dict | None = None) -> str:
    """The name an artist sees for parameter `name`: its graph `label` if it has one, else `humanise(name)`."""
    label = (spec or {}).get("label")
    return label.strip() if isinstance(label, str) and label.strip() else humanise(name)


def param_labels(params: dict) -> dict[str, str]:
    """`param_label` for every parameter of a graph, made unique (a clash gets the id appended)."""
    labels = {k: param_label(k, p if isinstance(p, dict) else None) for k, p in params.items()}
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {k: (f"{v} ({k})" if seen[v] > 1 else v) for k, v in labels.items()}
