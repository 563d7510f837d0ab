"""What the object stage measured: scene.json's `stages.objects` (docs/objects.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(kw_only=True)
class ObjectsRecord:
    """Every key the object stage writes into scene.json's `stages.objects`, typed."""

    status: str = "done"
    objects: int = 0
    """Objects retrieved and posed (thing segments large enough)."""
    retrieval: str = ""
    """How models were retrieved: CLIP or category only (the retriever's mode)."""
    libraries: list[dict] = field(default_factory=list)
    """Per asset index: its folder and its number of models per source."""
    mask_iou_before: list[float] = field(default_factory=list)
    """Per object: IoU of its rendered silhouette with its mask after the yaw search."""
    mask_iou_after: list[float] = field(default_factory=list)
    """The same after the joint refinement."""
    reranked: int = 0
    """Objects whose model changed when the top candidates were re-ranked by their fitted silhouettes."""
    stretched: int = 0
    """Objects that keep a per-axis stretch (it beat their uniform scale by `stretch_margin`)."""
    flagged: list[str] = field(default_factory=list)
    """Objects with flags (scene.json `objects[].flags`: low mask IoU, proxy, parametric)."""
    dropped_segments: list[int] = field(default_factory=list)
    """Segments whose object the user deleted in Blender (the add-on's sync): not reconstructed again."""
    losses: list[float] = field(default_factory=list)
    """The joint refinement's loss per iteration."""
    seconds_per_iteration: float = 0.0
    optimiser: dict = field(default_factory=dict)
    """The optimisation harness's summary (pipeline/core/optimise.py)."""
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """scene.json's form."""
        return asdict(self)
