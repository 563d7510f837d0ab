"""Operators: reconstruct (a pipeline job, modal in the UI), cancel, import, use a candidate, refine, compare.

The work is in plain functions (`import_bundle`, `make_reconstruct_job`, `finish_job`, `render_compare`, ...) that
the operators call; headless, where modal operators never run, `execute()` does the same work synchronously, and
tests call the functions directly. Like the glTF importer, operators gather messages in a log and replay it
through `self.report` at the end.
"""

import time
from array import array
from pathlib import Path

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from . import jobs
from .bundle import BundleError, load_bundle
from .scene_format import PROP_NOTE, SceneData
from .edits import refine_stages, write_scene
from .properties import RENDER_SETTINGS_ITEMS
from .preferences import asset_library_roots, bundles_dir, get_prefs, pipeline_options, resolve_python
from .sync import bundle_root, collect_edits, object_name, reconstruction_camera, reconstructions

# The job in flight (one at a time): the Cancel button and the panel find it here.
_JOBS: dict[str, jobs.Job] = {}


class Log:
    """Messages gathered during an operation, replayed through `Operator.report` (as the glTF importer does)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def info(self, text: str) -> None:
        self.messages.append(("INFO", text))

    def warning(self, text: str) -> None:
        self.messages.append(("WARNING", text))

    def error(self, text: str) -> None:
        self.messages.append(("ERROR", text))

    def replay(self, report) -> None:
        for level, text in self.messages:
            report({level}, text)

    @property
    def has_errors(self) -> bool:
        return any(level == "ERROR" for level, _ in self.messages)


class JobError(RuntimeError):
    """A job cannot start; the message says why and what to do."""


# ---------------------------------------------------------------------------------------------- import

def describe_bundle(scene: SceneData, log: Log) -> None:
    """What is in a bundle, for the import's report."""
    cam = scene.camera
    log.info(f"camera: vertical field of view {cam.fov_y_deg:.1f} deg, {cam.width}x{cam.height} px")
    scale = scene.scale
    if scale.get("note") or scale.get("source"):
        log.info(f"scale: {scale.get('note') or scale.get('source')}")
    if scene.room is not None:
        sx, sy, sz = scene.room.size
        log.info(f"room: {sx:.2f} x {sy:.2f} x {sz:.2f} m")
    log.info(f"{len(scene.objects)} objects, {len(scene.lights)} lights, {len(scene.materials)} materials")
    for name, info in scene.stages.items():
        status = info.get("status") if isinstance(info, dict) else None
        if status and status not in ("done", "ok", "skipped"):
            note = info.get("note") or info.get("message") or ""
            log.warning(f"stage {name}: {status}{': ' + note if note else ''}")


def import_bundle(context: bpy.types.Context, path: str | Path, log: Log,
                  render_settings: str | None = None, candidate_assets: bool | None = None
                  ) -> bpy.types.Collection | None:
    """Load and build a bundle into the scene (replacing what an earlier import of the same bundle built, keeping
    what the artist added); None on error. `render_settings`: builders/scene.RENDER_SETTINGS, default the
    scene's choice in the panel; `candidate_assets`: also mark the object candidates as assets
    (`import_candidate_assets`), default the panel's choice."""
    from .builders.scene import build_bundle

    try:
        bundle = load_bundle(Path(bpy.path.abspath(str(path))), asset_roots=asset_library_roots(get_prefs(context)))
    except BundleError as exc:
        log.error(str(exc))
        return None
    for warning in bundle.warnings:
        log.warning(warning)
    started = time.perf_counter()
    name = f"photo2scene {bundle.root.name}"
    try:
        coll = build_bundle(bundle, name, render_settings or context.scene.photo2scene.render_settings)
    except Exception as exc:  # a builder failing on odd data must reach the user, not only the console
        log.error(f"building {bundle.root.name} failed: {type(exc).__name__}: {exc}")
        return None
    describe_bundle(bundle.data, log)
    for obj in coll.all_objects:  # an asset library's .blend or asset missing; a room face's placeholder material
        for key in ("photo2scene_source_note", PROP_NOTE):
            if obj.get(key):
                log.warning(str(obj[key]))
    built = sum(1 for o in coll.all_objects if object_name(o))
    wanted = len(bundle.data.objects)
    if built < wanted:
        log.warning(f"scene.json has {wanted} objects but {built} were built: this version of the add-on's "
                    "builders does not build objects yet")
    props = context.scene.photo2scene
    props.reconstruction = coll
    props.bundle = str(bundle.root)
    if props.candidate_assets if candidate_assets is None else candidate_assets:
        import_candidate_assets(coll, bundle, log)
    log.info(f"imported {bundle.root} into collection {coll.name!r} in {time.perf_counter() - started:.2f} s")
    return coll


def active_reconstruction(context: bpy.types.Context) -> bpy.types.Collection | None:
    """The scene's chosen reconstruction, else the only one there is."""
    props = context.scene.photo2scene
    if props.reconstruction is not None:
        return props.reconstruction
    found = reconstructions()
    return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------------------------------------- jobs

def active_job() -> jobs.Job | None:
    job = _JOBS.get("active")
    return job if job is not None and not job.finished else None


def _python(context: bpy.types.Context) -> str:
    python = resolve_python(get_prefs(context))
    if not python:
        raise JobError("no Python with the photo2scene pipeline found: set it in the add-on's preferences "
                       "(Edit > Preferences > Add-ons > Photo2Scene > Pipeline Python)")
    return python


def _log_path(output: Path, kind: str) -> Path:
    return output.parent / "logs" / f"{output.name}-{kind}-{time.strftime('%Y%m%d-%H%M%S')}.log"


def make_reconstruct_job(context: bpy.types.Context) -> jobs.Job:
    """A (not yet started) pipeline job for the scene's photo and estimates, writing a new bundle."""
    props = context.scene.photo2scene
    photo = Path(bpy.path.abspath(props.photo)) if props.photo else None
    if photo is None or not photo.is_file():
        raise JobError(f"choose a photo first ({photo} does not exist)" if photo else "choose a photo first")
    estimates = Path(bpy.path.abspath(props.estimates)) if props.estimates else None
    if estimates is not None and not estimates.is_dir():
        raise JobError(f"the estimates folder {estimates} does not exist; clear the field to run without one")
    output = jobs.unique_bundle_path(bundles_dir(context), photo.stem)
    argv = jobs.pipeline_command(_python(context), *jobs.reconstruct_args(photo, output, estimates,
                                                                          pipeline_options(context)))
    return jobs.Job(argv, kind="reconstruct", output=output, log_path=_log_path(output, "reconstruct"),
                    cwd=output.parent, label=f"Reconstructing {photo.name}")


def make_refine_job(context: bpy.types.Context, coll: bpy.types.Collection, stage: str, log: Log) -> jobs.Job:
    """Write the reconstruction's Blender state into its bundle's scene.json; a job re-running from `stage`."""
    root = bundle_root(coll)
    if root is None or not (root / "scene.json").is_file():
        raise JobError(f"the bundle of {coll.name!r} is gone ({root}); import it again")
    bundle = load_bundle(root)
    stages = refine_stages(root, bundle.data)
    if stage not in stages:
        raise JobError(f"{root.name} has no checkpoint for stage {stage!r} (it has: {', '.join(stages) or 'none'})")
    python = _python(context)
    scene, changes = collect_edits(coll, bundle.scene)
    write_scene(root, scene)
    log.info(f"wrote {len(changes)} changes into {root / 'scene.json'}" if changes
             else "no changes since the import; re-running anyway")
    for change in changes[:20]:
        log.info(f"  {change}")
    from .image_tools.client import refine_extra_args  # the crop pairs drawn in the Image Editor, if any

    options = [*pipeline_options(context), *refine_extra_args(root)]
    argv = jobs.pipeline_command(python, *jobs.refine_args(root, stage, options))
    return jobs.Job(argv, kind="refine", output=root, log_path=_log_path(root, f"refine-{stage}"), cwd=root.parent,
                    label=f"Refining {root.name} from {stage}")


def make_index_job(context: bpy.types.Context) -> jobs.Job:
    prefs = get_prefs(context)
    paths = asset_library_roots(prefs)
    if not paths:
        raise JobError("add an asset library folder first")
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise JobError(f"asset library {missing[0]} does not exist")
    logs = bundles_dir(context) / "logs"
    argv = jobs.pipeline_command(_python(context), *jobs.index_assets_args(paths))
    return jobs.Job(argv, kind="index", log_path=logs / f"assets-index-{time.strftime('%Y%m%d-%H%M%S')}.log",
                    label="Indexing asset libraries")


def make_material_import_job(context: bpy.types.Context, material: bpy.types.Material) -> jobs.Job:
    """Write `material` alone into a .blend and run `photo2scene materials import` on it (docs/materials.md)."""
    from .preferences import data_dir

    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = data_dir("material_imports")
    blend = folder / f"{bpy.path.clean_name(material.name)}-{stamp}.blend"
    bpy.data.libraries.write(str(blend), {material}, fake_user=True)
    category = context.scene.photo2scene.material_category.strip() or "custom"
    argv = jobs.pipeline_command(_python(context), *jobs.import_material_args(blend, material.name, category))
    return jobs.Job(argv, kind="material", log_path=folder / f"{blend.stem}.log",
                    label=f"Adding {material.name} to the material library")


def start_job(context: bpy.types.Context, job: jobs.Job) -> jobs.Job:
    """Start `job` as the active one (one at a time) and show it in the panel."""
    if active_job() is not None:
        raise JobError("a photo2scene job is already running: wait for it or cancel it")
    try:
        job.start()
    except OSError as exc:
        raise JobError(f"cannot start {job.argv[0]}: {exc.strerror or exc}; check the Pipeline Python in the "
                       "add-on's preferences") from exc
    _JOBS["active"] = job
    sync_job_props(context, job)
    return job


def sync_job_props(context: bpy.types.Context, job: jobs.Job) -> None:
    """Copy the job's state into the window manager's properties that the panel draws."""
    p = context.window_manager.photo2scene_job
    s = job.state
    p.running = not s.finished
    p.kind, p.stage, p.status = job.kind, s.stage, s.status
    p.label = f"{job.label}: {s.label()}" if s.stage else job.label
    p.message = s.message[:500]
    p.progress, p.step, p.total = s.fraction, s.step, s.total
    p.error = s.error[:1000]
    p.log_path = str(job.log_path or "")


def cancel_active(context: bpy.types.Context | None = None) -> bool:
    """Ask the running job to stop (the operator polling it finishes the cancel); False when none runs."""
    job = active_job()
    if job is None:
        return False
    job.request_cancel()
    if context is not None:
        sync_job_props(context, job)
    return True


def finish_job(context: bpy.types.Context, job: jobs.Job, log: Log) -> bool:
    """After a job ended: import its bundle when it made one, else say what happened. True on success."""
    if _JOBS.get("active") is job:
        del _JOBS["active"]
    sync_job_props(context, job)
    s = job.state
    if s.status == "cancelled":
        log.warning(f"{job.label}: cancelled; nothing was imported")
        return False
    if s.status != "done":
        where = f" (log: {job.log_path})" if job.log_path else ""
        log.error(f"{job.label} failed: {s.error}{where}")
        return False
    if job.kind in ("reconstruct", "refine"):
        return import_bundle(context, s.bundle or str(job.output), log) is not None
    log.info(f"{job.label}: done")
    return True


def _status_bar(header, context: bpy.types.Context) -> None:
    p = context.window_manager.photo2scene_job
    layout = header.layout
    layout.progress(factor=p.progress, type="BAR", text=p.label or "photo2scene")
    layout.label(text="Esc to cancel", icon="EVENT_ESC")


def _set_status(context: bpy.types.Context, running: bool) -> None:
    workspace = getattr(context, "workspace", None)
    if workspace is not None:
        workspace.status_text_set(_status_bar if running else None)


def _redraw(context: bpy.types.Context) -> None:
    screen = getattr(context, "screen", None)
    for area in (screen.areas if screen else []):
        if area.type in ("VIEW_3D", "PREFERENCES", "STATUSBAR"):
            area.tag_redraw()


class _JobOperator:
    """Shared shape of the job operators: modal with a timer in the UI, synchronous in `execute` (headless)."""

    # Set per run (plain attributes, not Blender properties).
    _timer = None
    _job = None
    _log = None

    def make_job(self, context: bpy.types.Context, log: Log) -> jobs.Job:
        raise NotImplementedError

    def _begin(self, context: bpy.types.Context) -> jobs.Job | None:
        self._log = Log()
        try:
            self._job = start_job(context, self.make_job(context, self._log))
        except (JobError, BundleError, OSError) as exc:  # OSError: the bundle could not be written
            self._log.error(str(exc))
            self._log.replay(self.report)
            return None
        return self._job

    def _end(self, context: bpy.types.Context) -> set[str]:
        ok = finish_job(context, self._job, self._log)
        self._log.replay(self.report)
        return {"FINISHED"} if ok else {"CANCELLED"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        if self._begin(context) is None:
            return {"CANCELLED"}
        self._job.wait()
        return self._end(context)

    def invoke(self, context: bpy.types.Context, event) -> set[str]:
        if context.window is None:  # no window to run a modal loop in
            return self.execute(context)
        if self._begin(context) is None:
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        _set_status(context, True)
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event) -> set[str]:
        job = self._job
        if event.type == "ESC" and event.value == "PRESS":
            job.request_cancel()
        elif event.type != "TIMER":
            return {"PASS_THROUGH"}  # keep Blender usable while the pipeline runs
        job.poll()
        sync_job_props(context, job)
        _redraw(context)
        if not job.finished:
            return {"PASS_THROUGH"} if event.type == "TIMER" else {"RUNNING_MODAL"}
        context.window_manager.event_timer_remove(self._timer)
        _set_status(context, False)
        return self._end(context)


class PHOTO2SCENE_OT_reconstruct(_JobOperator, bpy.types.Operator):
    """Reconstruct the room in the photo with the photo2scene pipeline, then import the result"""

    bl_idname = "photo2scene.reconstruct"
    bl_label = "Reconstruct"
    bl_options = {"UNDO"}  # one undo step; not REGISTER: no "Repeat Last" re-running the pipeline

    @classmethod
    def poll(cls, context):
        return active_job() is None

    def make_job(self, context, log):
        return make_reconstruct_job(context)


class PHOTO2SCENE_OT_refine(_JobOperator, bpy.types.Operator):
    """Write the current Blender state (moved objects, swapped assets and materials, light strengths) into the
    bundle, re-run the pipeline from the chosen stage, and import the result"""

    bl_idname = "photo2scene.refine"
    bl_label = "Refine from Stage"
    bl_options = {"UNDO"}  # one undo step; not REGISTER: no "Repeat Last" re-running the pipeline

    stage: StringProperty(name="Stage", description="Stage to re-run from (default: the panel's choice)")

    @classmethod
    def poll(cls, context):
        return active_job() is None and active_reconstruction(context) is not None

    def make_job(self, context, log):
        coll = active_reconstruction(context)
        if coll is None:
            raise JobError("import a reconstruction first")
        stage = self.stage or context.scene.photo2scene.refine_stage
        return make_refine_job(context, coll, stage, log)


class PHOTO2SCENE_OT_index_assets(_JobOperator, bpy.types.Operator):
    """Index the asset library folders so the object stage can retrieve furniture from them"""

    bl_idname = "photo2scene.index_assets"
    bl_label = "Index Asset Libraries"

    @classmethod
    def poll(cls, context):
        return active_job() is None

    def make_job(self, context, log):
        return make_index_job(context)


class PHOTO2SCENE_OT_add_material(_JobOperator, bpy.types.Operator):
    """Add the active material (vocabulary nodes ending in a Principled BSDF) to your photo2scene material library,
    with its colours and pattern scales as parameters, so the material stage can retrieve and optimise it"""

    bl_idname = "photo2scene.add_material"
    bl_label = "Add Material to Library"

    @classmethod
    def poll(cls, context):
        obj = context.object
        return active_job() is None and obj is not None and obj.active_material is not None

    def make_job(self, context, log):
        return make_material_import_job(context, context.object.active_material)


class PHOTO2SCENE_OT_cancel(bpy.types.Operator):
    """Stop the running photo2scene job; nothing it was making is imported"""

    bl_idname = "photo2scene.cancel"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        return active_job() is not None

    def execute(self, context):
        if not cancel_active(context):
            self.report({"WARNING"}, "no photo2scene job is running")
            return {"CANCELLED"}
        self.report({"INFO"}, "cancelling the photo2scene job")
        return {"FINISHED"}


def import_candidate_assets(coll: bpy.types.Collection, bundle, log: Log) -> int:
    """Mark the bundle's object candidates as assets (builders/assets.py); how many, logged."""
    from .builders.assets import catalog_path, mark_candidate_assets
    from .sync import find_material

    materials = {name: mat for name in bundle.data.materials
                 if (mat := find_material(coll, bundle.data, name)) is not None}
    try:
        made = mark_candidate_assets(coll, bundle, materials)
    except Exception as exc:  # the scene is imported; the assets are an extra
        log.warning(f"candidates as assets failed: {type(exc).__name__}: {exc}")
        return 0
    where = catalog_path(coll.name)
    saved = "" if bpy.data.filepath else " (save the file to see the catalogue; until then under Unassigned)"
    log.info(f"{len(made)} object candidates in the Asset Browser, catalogue {where}{saved}")
    return len(made)


class PHOTO2SCENE_OT_import_bundle(bpy.types.Operator):
    """Import a photo2scene bundle folder: camera with the photo as background, room, objects, lights and
    materials, in one collection per reconstruction (importing it again replaces what the import built and keeps
    what you added)"""

    bl_idname = "photo2scene.import_bundle"
    bl_label = "Import Photo2Scene Bundle"
    bl_options = {"REGISTER", "UNDO"}

    directory: StringProperty(name="Bundle", subtype="DIR_PATH", description="The bundle folder (has scene.json)")
    filter_folder: bpy.props.BoolProperty(default=True, options={"HIDDEN"})
    render_settings: EnumProperty(name="Render Settings", items=RENDER_SETTINGS_ITEMS, default="PHOTO",
                                  description="What the import changes in the scene's render settings",
                                  options={"SKIP_SAVE"})  # not remembered: each import starts from the default
    candidate_assets: BoolProperty(name="Candidates as Assets", default=False, options={"SKIP_SAVE"},
                                   description="Also put every object candidate into the Asset Browser, in a "
                                               "catalogue named after the reconstruction")

    def invoke(self, context, event):
        if not self.properties.is_property_set("render_settings"):  # the panel's choice
            self.render_settings = context.scene.photo2scene.render_settings
        if not self.properties.is_property_set("candidate_assets"):
            self.candidate_assets = context.scene.photo2scene.candidate_assets
        if not self.directory:
            self.directory = context.scene.photo2scene.bundle
        if self.directory:
            return self.execute(context)
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        log = Log()
        if not self.directory:
            self.report({"ERROR"}, "choose a bundle folder (it contains scene.json)")
            return {"CANCELLED"}
        coll = import_bundle(context, self.directory, log, self.render_settings, self.candidate_assets)
        log.replay(self.report)
        return {"FINISHED"} if coll is not None else {"CANCELLED"}


class PHOTO2SCENE_OT_use_candidate(bpy.types.Operator):
    """Use this candidate instead of the current asset or material"""

    bl_idname = "photo2scene.use_candidate"
    bl_label = "Use This"
    bl_options = {"REGISTER", "UNDO"}

    kind: EnumProperty(items=[("OBJECT", "Object", ""), ("MATERIAL", "Material", "")], name="Kind")
    name: StringProperty(name="Name", description="The object's or material's name in scene.json")
    index: IntProperty(name="Candidate", min=0)

    def execute(self, context):
        from .builders.candidates import SwapError, swap_material, swap_object

        coll = active_reconstruction(context)
        if coll is None:
            self.report({"ERROR"}, "import a reconstruction first")
            return {"CANCELLED"}
        try:
            bundle = load_bundle(bundle_root(coll), asset_roots=asset_library_roots(get_prefs(context)))
            rebuilt = True
            if self.kind == "MATERIAL":
                swap_material(coll, bundle, self.name, self.index)
            else:
                rebuilt = swap_object(coll, bundle, self.name, self.index)[1]
        except (SwapError, BundleError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        if rebuilt:
            self.report({"INFO"}, f"{self.kind.lower()} {self.name}: using candidate {self.index + 1}; "
                                  "Refine to optimise from here")
        else:
            self.report({"INFO"}, f"object {self.name}: candidate {self.index + 1} chosen; the bundle does not hold "
                                  "its meshes, so Refine from the objects stage to load and fit it")
        return {"FINISHED"}


# ---------------------------------------------------------------------------------------------- compare

def render_compare(context: bpy.types.Context, coll: bpy.types.Collection, samples: int,
                   out_dir: Path, device: str = "auto") -> tuple[Path, Path | None]:
    """Render the reconstruction with Cycles from its camera into `out_dir/render.png`, and put it beside the photo
    in `out_dir/compare.png` (also loaded as the image "photo2scene compare"). The scene's render settings are
    restored afterwards."""
    scene = context.scene
    cam = reconstruction_camera(coll)
    if cam is None:
        raise JobError(f"{coll.name} has no camera")
    out_dir.mkdir(parents=True, exist_ok=True)
    render_path = out_dir / "render.png"
    r = scene.render
    saved = (scene.camera, r.engine, r.filepath, r.image_settings.file_format, scene.cycles.samples,
             scene.cycles.device)
    try:
        scene.camera = cam
        r.engine = "CYCLES"
        scene.cycles.samples = samples
        if device in ("cpu", "gpu"):
            scene.cycles.device = device.upper()  # Cycles falls back to the CPU where no GPU is set up
        r.filepath = str(render_path)
        r.image_settings.file_format = "PNG"
        bpy.ops.render.render(write_still=True)
    finally:
        (scene.camera, r.engine, r.filepath, r.image_settings.file_format, scene.cycles.samples,
         scene.cycles.device) = saved
    photo_image = next((b.image for b in cam.data.background_images if b.image is not None), None)
    if photo_image is None:
        return render_path, None
    render_image = bpy.data.images.load(str(render_path), check_existing=False)
    try:
        side = side_by_side(photo_image, render_image, "photo2scene compare")
    finally:
        bpy.data.images.remove(render_image)
    side.filepath_raw = str(out_dir / "compare.png")
    side.file_format = "PNG"
    side.save()
    return render_path, out_dir / "compare.png"


def side_by_side(left: bpy.types.Image, right: bpy.types.Image, name: str) -> bpy.types.Image:
    """A new image: `left` scaled to `right`'s size, then `right`, side by side (one image, so the two can be
    looked at together in any Image Editor)."""
    w, h = right.size
    scaled = left.copy()
    try:
        scaled.scale(w, h)
        a = array("f", bytes(4 * w * h * 4))
        b = array("f", bytes(4 * w * h * 4))
        scaled.pixels.foreach_get(a)
        right.pixels.foreach_get(b)
    finally:
        bpy.data.images.remove(scaled)
    out = array("f", bytes(4 * 2 * w * h * 4))
    row = 4 * w
    for y in range(h):
        out[2 * row * y: 2 * row * y + row] = a[row * y: row * (y + 1)]
        out[2 * row * y + row: 2 * row * (y + 1)] = b[row * y: row * (y + 1)]
    image = bpy.data.images.get(name)
    if image is not None and tuple(image.size) != (2 * w, h):
        bpy.data.images.remove(image)
        image = None
    if image is None:
        image = bpy.data.images.new(name, 2 * w, h, alpha=True)
    image.pixels.foreach_set(out)
    image.update()
    return image


class PHOTO2SCENE_OT_compare(bpy.types.Operator):
    """Render the reconstruction with Cycles from its camera and show it beside the photo"""

    bl_idname = "photo2scene.compare"
    bl_label = "Compare"

    @classmethod
    def poll(cls, context):
        return active_reconstruction(context) is not None

    def execute(self, context):
        coll = active_reconstruction(context)
        prefs = get_prefs(context)
        samples = prefs.compare_samples if prefs else 64
        root = bundle_root(coll)
        out_dir = (root / "compare") if root and root.is_dir() else bundles_dir(context) / "compare"
        try:
            render_path, compare_path = render_compare(context, coll, samples, out_dir,
                                                       prefs.device if prefs else "auto")
        except (JobError, RuntimeError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        image = bpy.data.images.get("photo2scene compare")
        screen = getattr(context, "screen", None)
        for area in (screen.areas if screen else []):
            if area.type == "IMAGE_EDITOR" and image is not None:
                area.spaces.active.image = image
        self.report({"INFO"}, f"rendered {render_path}" + (f"; photo | render in {compare_path}" if compare_path
                                                            else " (no photo to compare with)"))
        return {"FINISHED"}


# ---------------------------------------------------------------------------------------------- preferences

class PHOTO2SCENE_OT_check_python(bpy.types.Operator):
    """Check that this Python can run the photo2scene pipeline"""

    bl_idname = "photo2scene.check_python"
    bl_label = "Test Pipeline Python"

    def execute(self, context):
        prefs = get_prefs(context)
        python = resolve_python(prefs)
        ok, message = jobs.check_interpreter(python or "")
        if prefs is not None:
            prefs.check_message = message
        self.report({"INFO"} if ok else {"ERROR"}, message)
        return {"FINISHED"} if ok else {"CANCELLED"}


class PHOTO2SCENE_OT_asset_path_add(bpy.types.Operator):
    """Add an asset library folder"""

    bl_idname = "photo2scene.asset_path_add"
    bl_label = "Add Asset Library"

    def execute(self, context):
        prefs = get_prefs(context)
        if prefs is None:
            return {"CANCELLED"}
        prefs.asset_paths.add()
        prefs.asset_index = len(prefs.asset_paths) - 1
        return {"FINISHED"}


class PHOTO2SCENE_OT_asset_path_remove(bpy.types.Operator):
    """Remove the selected asset library folder"""

    bl_idname = "photo2scene.asset_path_remove"
    bl_label = "Remove Asset Library"

    def execute(self, context):
        prefs = get_prefs(context)
        if prefs is None or not 0 <= prefs.asset_index < len(prefs.asset_paths):
            return {"CANCELLED"}
        prefs.asset_paths.remove(prefs.asset_index)
        prefs.asset_index = min(prefs.asset_index, len(prefs.asset_paths) - 1)
        return {"FINISHED"}


def menu_import(self, context):
    self.layout.operator(PHOTO2SCENE_OT_import_bundle.bl_idname, text="Photo2Scene Bundle (folder)")


@bpy.app.handlers.persistent
def cancel_on_load(*_args) -> None:
    """Loading another file ends the modal operator that follows a job: stop the job with it."""
    job = active_job()
    if job is not None:
        job.cancel()
    _JOBS.clear()


def cancel_all() -> None:
    """On unregister: no pipeline process may outlive the add-on."""
    job = active_job()
    if job is not None:
        job.cancel()
    _JOBS.clear()


classes = (PHOTO2SCENE_OT_reconstruct, PHOTO2SCENE_OT_refine, PHOTO2SCENE_OT_index_assets,
           PHOTO2SCENE_OT_add_material, PHOTO2SCENE_OT_cancel,
           PHOTO2SCENE_OT_import_bundle, PHOTO2SCENE_OT_use_candidate, PHOTO2SCENE_OT_compare,
           PHOTO2SCENE_OT_check_python, PHOTO2SCENE_OT_asset_path_add, PHOTO2SCENE_OT_asset_path_remove)
