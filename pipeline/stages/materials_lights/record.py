"""What the material and light stage measured: scene.json's `stages.materials_lights` (docs/materials_lights.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(kw_only=True)
class MaterialsLightsRecord:
    """Every key the material and light stage writes into scene.json's `stages.materials_lights`, typed."""

    status: str = "done"
    lights: list[dict]
    """Per light kept: its name, what placed it and its fitted radiance (a re-run starts from these)."""
    retrieval: dict
    """How procedural materials were retrieved (mode, per-material choices and scores)."""
    vgg: str
    """Where the Gram loss's VGG-19 came from: local weights, seeded random, or none."""
    render: dict
    """The optimisation renders: integrator, path length, size, spp, the loss's size."""
    init: dict
    """The initialisation: albedo scale prior, per-light radiance fits."""
    metrics_init: dict
    """Final-size comparison of the initial render with the photo (PSNR, SSIM, ...)."""
    metrics: dict
    """The same for the final render (denoised; `raw` without)."""
    losses: list[float] = field(default_factory=list)
    """The joint optimisation's total loss per iteration."""
    loss_terms: dict = field(default_factory=dict)
    """The last iteration's loss by term."""
    seconds_per_iteration: float = 0.0
    optimiser: dict = field(default_factory=dict)
    """The optimisation harness's summary (pipeline/core/optimise.py)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per step (lights, crops, retrieval, initialisation, optimisation, final render)."""
    region_pixels: dict[str, int] = field(default_factory=dict)
    """Per material: pixels of its region (where the render shows it and the segmentation agrees)."""
    final_region_colours: dict[str, list] = field(default_factory=dict)
    """Per material: mean final-render colour and median photo colour over its region (linear RGB)."""
    crops: list[dict] = field(default_factory=list)
    """The crop pairs used: material, photo and render windows, and where they came from."""
    notes: list[str] = field(default_factory=list)
    report_images: list[list[str]] = field(default_factory=list)
    """The report's pictures: (caption, file in the bundle)."""
    seconds: float = 0.0
    exposure_ev: float | None = None
    """The camera exposure the lights' watts were written under (kept here too: a re-run of the room stage makes
    a new camera)."""

    def to_dict(self) -> dict:
        """scene.json's form."""
        return asdict(self)
