"""Add-on preferences: which Python runs the pipeline, device, quality, asset libraries; and where data goes."""

from pathlib import Path

import bpy
from bpy.props import CollectionProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from . import jobs, setup_env

# The add-on's package: `bl_ext.<repo>.photo2scene` when installed as an extension, `blender_addon` when enabled
# from a checkout (tests). Preferences are keyed by it.
ADDON_ID = __package__


class PHOTO2SCENE_AssetPath(bpy.types.PropertyGroup):
    path: StringProperty(name="Folder", subtype="DIR_PATH",
                         description="A folder of OBJ/glTF/PLY models, a 3D-FUTURE folder, or a .blend asset library")


class PHOTO2SCENE_Preferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    python: StringProperty(
        name="Pipeline Python", subtype="FILE_PATH",
        description="The Python interpreter that has photo2scene installed (e.g. the project's .venv/bin/python). "
                    "Empty: found automatically when the add-on sits in a photo2scene checkout")
    device: EnumProperty(
        name="Device", default="auto",
        items=[("auto", "Auto", "The GPU when Mitsuba can use it, else the CPU"),
               ("cpu", "CPU", "Mitsuba's LLVM backend"),
               ("gpu", "GPU", "Mitsuba's CUDA backend")])
    quality: EnumProperty(
        name="Quality", default="final",
        items=[("draft", "Draft", "Lower resolution and fewer iterations: a quick first look"),
               ("final", "Final", "The pipeline's defaults")])
    extra_args: StringProperty(
        name="Extra Options",
        description="More pipeline options, as on the command line (e.g. --room.refine-iters 20); "
                    "they override the quality preset")
    output_dir: StringProperty(
        name="Bundles Folder", subtype="DIR_PATH",
        description="Where new reconstructions are written. Empty: the add-on's own data folder")
    compare_samples: IntProperty(name="Compare Samples", default=64, min=1, max=4096,
                                 description="Cycles samples of the Compare render")
    library_assets: EnumProperty(
        name="Library Assets", default="APPEND",
        description="How objects retrieved from a Blender asset library (.blend) are brought into the scene",
        items=[("APPEND", "Append", "Copy the asset from its .blend file; its materials are replaced by the "
                                    "reconstruction's optimised ones"),
               ("LINK", "Link", "Link the asset's mesh from its .blend file (read-only, follows the library); the "
                                "optimised materials go on object-level material slots"),
               ("BUNDLE", "Bundle Meshes", "Always use the mesh copies in the bundle (a self-contained file)")])
    asset_paths: CollectionProperty(type=PHOTO2SCENE_AssetPath)
    asset_index: IntProperty()
    check_message: StringProperty(options={"SKIP_SAVE"})
    source_dir: StringProperty(
        name="Source Folder", subtype="DIR_PATH",
        description="A photo2scene checkout (the folder with pyproject.toml) that Set Up installs from. Empty: the "
                    "checkout the add-on sits in, when it does")
    setup_progress: FloatProperty(options={"SKIP_SAVE"}, min=0.0, max=1.0, subtype="FACTOR")
    setup_status: StringProperty(options={"SKIP_SAVE"})

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        self.draw_setup(layout)
        row = layout.row(align=True)
        row.prop(self, "python")
        row.operator("photo2scene.check_python", text="Test")
        detected = resolve_python(self)
        if not self.python:
            layout.label(text=f"Found: {detected}" if detected else "Not found: choose the interpreter above",
                         icon="CHECKMARK" if detected else "ERROR")
        if self.check_message:
            layout.label(text=self.check_message, icon="INFO")
        col = layout.column()
        col.prop(self, "device")
        col.prop(self, "quality")
        col.prop(self, "extra_args")
        col.prop(self, "output_dir")
        col.prop(self, "compare_samples")
        box = layout.box()
        box.label(text="Asset libraries (furniture to retrieve from)")
        row = box.row()
        row.template_list("UI_UL_list", "photo2scene_assets", self, "asset_paths", self, "asset_index", rows=3)
        side = row.column(align=True)
        side.operator("photo2scene.asset_path_add", icon="ADD", text="")
        side.operator("photo2scene.asset_path_remove", icon="REMOVE", text="")
        if 0 <= self.asset_index < len(self.asset_paths):
            box.prop(self.asset_paths[self.asset_index], "path")
        box.operator("photo2scene.index_assets", icon="FILE_REFRESH")
        box.prop(self, "library_assets")

    def draw_setup(self, layout: bpy.types.UILayout) -> None:
        """The Set Up box: create the pipeline environment (setup_env.py), its progress and log."""
        box = layout.box()
        box.label(text="Pipeline environment", icon="CONSOLE")
        box.prop(self, "source_dir")
        row = box.row(align=True)
        running = PHOTO2SCENE_OT_setup_pipeline.job is not None and not PHOTO2SCENE_OT_setup_pipeline.job.done
        if running:
            row.progress(factor=self.setup_progress, text=self.setup_status[:90])
            row.operator("photo2scene.setup_cancel", text="", icon="CANCEL")
        else:
            row.operator("photo2scene.setup_pipeline", icon="IMPORT")
            row.operator("photo2scene.check_python", text="Check", icon="CHECKMARK")
            if self.setup_status:
                box.label(text=self.setup_status[:120], icon="INFO")
        log = setup_log_path()
        if log.is_file():
            box.label(text=f"Log: {log}")


def get_prefs(context: bpy.types.Context | None = None) -> PHOTO2SCENE_Preferences | None:
    """This add-on's preferences, or None when it is not enabled through the preferences (scripts, tests)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(ADDON_ID)
    return addon.preferences if addon is not None else None


def asset_library_roots(prefs: PHOTO2SCENE_Preferences | None) -> list[str]:
    """The asset library folders the user configured: the only places outside a bundle it may open assets from."""
    return [bpy.path.abspath(p.path) for p in (prefs.asset_paths if prefs else []) if p.path]


def resolve_python(prefs: PHOTO2SCENE_Preferences | None) -> str | None:
    """The interpreter to run: the chosen one, else the checkout's .venv, else the one Set Up made, else the one
    behind `photo2scene`."""
    if prefs is not None and prefs.python:
        return bpy.path.abspath(prefs.python)
    return jobs.find_project_python(Path(__file__).parent, setup_env_dir())


def setup_env_dir() -> Path:
    """Where Set Up puts the pipeline environment: `env/` in the add-on's data folder (kept across versions)."""
    return data_dir("env")


def setup_log_path() -> Path:
    return setup_env_dir() / setup_env.LOG_NAME


class PHOTO2SCENE_OT_setup_pipeline(bpy.types.Operator):
    """Create the pipeline's Python environment (Python 3.11 venv, photo2scene and its packages; libLLVM through
    apt when missing), as `make setup` does. Takes several minutes; the log is in the add-on's data folder"""

    bl_idname = "photo2scene.setup_pipeline"
    bl_label = "Set Up Pipeline"

    job: setup_env.SetupJob | None = None  # one set-up at a time, across operator instances
    _timer = None

    def execute(self, context):
        prefs = get_prefs(context)
        cls = PHOTO2SCENE_OT_setup_pipeline
        if cls.job is not None and not cls.job.done:
            self.report({"WARNING"}, "a set-up is already running")
            return {"CANCELLED"}
        try:
            plan = setup_env.plan_setup(setup_env_dir(),
                                        setup_env.find_source(Path(__file__).parent,
                                                              bpy.path.abspath(prefs.source_dir) if prefs else ""),
                                        setup_env.find_python311(), setup_env.find_llvm())
        except setup_env.SetupProblem as exc:
            if prefs is not None:
                prefs.setup_status = str(exc)
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        cls.job = setup_env.SetupJob(plan, check=jobs.check_interpreter).start()
        if prefs is not None:
            prefs.setup_status, prefs.setup_progress = "starting", 0.0
        if bpy.app.background:  # no event loop: wait here (scripts and tests)
            cls.job.wait()
            return self._finished(context)
        self._timer = context.window_manager.event_timer_add(0.5, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        job, prefs = PHOTO2SCENE_OT_setup_pipeline.job, get_prefs(context)
        if prefs is not None and job is not None:
            prefs.setup_progress, prefs.setup_status = job.progress, job.status
        for area in context.screen.areas if context.screen else ():
            area.tag_redraw()
        if job is None or not job.done:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        return self._finished(context)

    def _finished(self, context) -> set[str]:
        job, prefs = PHOTO2SCENE_OT_setup_pipeline.job, get_prefs(context)
        if prefs is not None:
            prefs.setup_status, prefs.check_message = job.message, job.message
            if job.ok and not prefs.python:  # found again from env/ on the next start; shown here at once
                prefs.check_message = f"{job.message} ({job.plan.python})"
        self.report({"INFO"} if job.ok else {"ERROR"}, job.message)
        return {"FINISHED"} if job.ok else {"CANCELLED"}


class PHOTO2SCENE_OT_setup_cancel(bpy.types.Operator):
    """Stop the running set-up"""

    bl_idname = "photo2scene.setup_cancel"
    bl_label = "Cancel Set Up"

    def execute(self, context):
        job = PHOTO2SCENE_OT_setup_pipeline.job
        if job is not None:
            job.cancel()
        return {"FINISHED"}


def data_dir(*parts: str) -> Path:
    """Writable add-on data: the extension's user folder (Blender's rule for extensions); a folder in Blender's
    user data when the add-on is not installed as an extension."""
    try:
        base = Path(bpy.utils.extension_path_user(ADDON_ID, create=True))
    except ValueError:  # not an extension (enabled from a checkout)
        base = Path(bpy.utils.user_resource("DATAFILES", path="photo2scene", create=True))
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def bundles_dir(context: bpy.types.Context | None = None) -> Path:
    """Where new bundles go: the scene's choice, else the preferences', else the add-on's data folder."""
    context = context or bpy.context
    props = getattr(context.scene, "photo2scene", None)
    prefs = get_prefs(context)
    for value in ((props.output_dir if props else ""), (prefs.output_dir if prefs else "")):
        if value:
            path = Path(bpy.path.abspath(value))
            path.mkdir(parents=True, exist_ok=True)
            return path
    return data_dir("bundles")


def pipeline_options(context: bpy.types.Context | None = None) -> list[str]:
    """Device, quality preset and extra options from the preferences, as pipeline arguments."""
    prefs = get_prefs(context)
    if prefs is None:
        return jobs.option_args()
    return jobs.option_args(prefs.device, prefs.quality, prefs.extra_args)


classes = (PHOTO2SCENE_AssetPath, PHOTO2SCENE_Preferences, PHOTO2SCENE_OT_setup_pipeline, PHOTO2SCENE_OT_setup_cancel)
