"""Set-up from inside Blender (issue 18): the plan the preferences' Set Up button runs (the Makefile's steps), the
detection of Python 3.11, libLLVM, apt and the source checkout, the one-line messages, and the job that runs the
steps with a log, all checked without installing anything (the steps in the job tests are small Python commands)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from addon_fixtures import addon  # noqa: F401
from blender_addon import setup_env
from blender_addon.setup_env import SetupProblem, Step

REPO = Path(__file__).resolve().parents[2]


def _no_apt() -> Step:
    raise AssertionError("apt must not be planned when libLLVM is there")


def test_plan_is_the_makefiles_install(tmp_path):
    plan = setup_env.plan_setup(tmp_path / "env", REPO, "/usr/bin/python3.11", llvm="/usr/lib/libLLVM-19.so",
                                apt=_no_apt)
    argvs = [step.argv for step in plan.steps]
    env_python = str(tmp_path / "env" / "bin" / "python")
    assert argvs == [["/usr/bin/python3.11", "-m", "venv", str(tmp_path / "env")],
                     [env_python, "-m", "pip", "install", "-q", "--upgrade", "pip"],
                     [env_python, "-m", "pip", "install", "-q", "-e", f"{REPO}[test,learned]"]]
    assert plan.log_path == tmp_path / "env" / "setup.log"
    assert any("libLLVM found" in note for note in plan.notes)
    makefile = (REPO / "Makefile").read_text()  # the same Python, apt package and pip install as `make setup`
    assert "PYTHON ?= python3.11" in makefile and setup_env.PYTHON_VERSION == (3, 11)
    assert f"apt-get install -y -qq {setup_env.LLVM_PACKAGE}" in makefile
    assert "-m pip install -q -e '.[test,learned]'" in makefile and "-m pip install -q --upgrade pip" in makefile


def test_missing_llvm_is_installed_with_apt_first(tmp_path):
    step = setup_env.apt_step(is_root=True, which=lambda name: f"/usr/bin/{name}")
    assert step.argv[:2] == ["sh", "-c"] and "apt-get install -y -qq libllvm19" in step.argv[2]
    plan = setup_env.plan_setup(tmp_path / "env", REPO, "/usr/bin/python3.11", llvm=None, apt=lambda: step)
    assert plan.steps[0] is step and len(plan.steps) == 4
    user = setup_env.apt_step(is_root=False, which=lambda name: f"/usr/bin/{name}")
    assert user.argv[0] == "pkexec"  # Blender has no terminal to ask for a sudo password


@pytest.mark.parametrize("which, expected", [
    (lambda name: None, "apt-get is not available"),
    (lambda name: "/usr/bin/apt-get" if name == "apt-get" else None, "sudo apt-get install libllvm19"),
])
def test_no_apt_or_no_root_is_one_clear_line(which, expected):
    with pytest.raises(SetupProblem, match=expected) as info:
        setup_env.apt_step(is_root=False, which=which)
    assert "\n" not in str(info.value) and "Set Up again" in str(info.value)


def test_no_python311_and_no_source_are_one_clear_line(tmp_path):
    with pytest.raises(SetupProblem, match="Python 3.11 was not found") as info:
        setup_env.plan_setup(tmp_path / "env", REPO, None, llvm="/x")
    assert "\n" not in str(info.value)
    with pytest.raises(SetupProblem, match="no photo2scene source found"):
        setup_env.plan_setup(tmp_path / "env", None, "/usr/bin/python3.11", llvm="/x")


def test_detection(tmp_path):
    assert setup_env.is_source_checkout(REPO)
    assert not setup_env.is_source_checkout(tmp_path)
    assert setup_env.find_source(REPO / "blender_addon") == REPO  # the add-on inside a checkout
    assert setup_env.find_source(tmp_path / "addon") is None
    assert setup_env.find_source(tmp_path / "addon", chosen=str(REPO)) == REPO.resolve()
    assert setup_env.find_source(REPO / "blender_addon", chosen=str(tmp_path)) is None  # a wrong choice is wrong
    assert setup_env.python_version(sys.executable) == tuple(sys.version_info[:2])
    assert setup_env.python_version(str(tmp_path / "nope")) is None
    if sys.version_info[:2] == (3, 11):
        assert setup_env.find_python311([sys.executable]) == sys.executable
    for name in ("libLLVM-14.so.1", "libLLVM-19.so.1", "libLLVM-17.so"):
        (tmp_path / name).write_bytes(b"")
    pattern = (str(tmp_path / "libLLVM-*.so*"),)
    assert setup_env.find_llvm(pattern, environ={}) == str(tmp_path / "libLLVM-19.so.1")  # newest >= 16
    assert setup_env.find_llvm(pattern, environ={"DRJIT_LIBLLVM_PATH": str(tmp_path / "libLLVM-17.so")}) \
        == str(tmp_path / "libLLVM-17.so")
    (tmp_path / "libLLVM-19.so.1").unlink()
    (tmp_path / "libLLVM-17.so").unlink()
    assert setup_env.find_llvm(pattern, environ={}) is None  # 14 is too old for Dr.Jit


def _fake_plan(tmp_path, fail: bool = False) -> setup_env.SetupPlan:
    env = tmp_path / "env"
    make_python = (f"import pathlib; p = pathlib.Path({str(env)!r}) / 'bin' / 'python'; "
                   "p.parent.mkdir(parents=True, exist_ok=True); p.write_text('#'); print('venv made')")
    steps = [Step("creating", [sys.executable, "-c", make_python]),
             Step("installing", [sys.executable, "-c", "import sys; print('pip says hi'); sys.exit(%d)" % (3 * fail)])]
    return setup_env.SetupPlan(env, REPO, steps, env / "bin" / "python", ["libLLVM found: /x"])


def test_job_runs_the_steps_logs_and_is_found_again(tmp_path):
    from blender_addon.jobs import find_project_python

    checked = []
    job = setup_env.SetupJob(_fake_plan(tmp_path), check=lambda py: (checked.append(py) or True, f"OK: {py}"))
    assert job.start().wait(60) and job.ok, job.message
    assert job.progress == 1.0 and checked == [str(tmp_path / "env" / "bin" / "python")]
    log = (tmp_path / "env" / "setup.log").read_text()
    assert "venv made" in log and "pip says hi" in log and log.count("# exit 0") == 2 and "# check: OK" in log
    assert setup_env.installed_python(tmp_path / "env") == checked[0]
    # The next start: an add-on outside a checkout finds the environment Set Up made.
    assert find_project_python(tmp_path / "addon", setup_env=tmp_path / "env") == checked[0]


def test_failed_step_stops_with_the_log_named(tmp_path):
    job = setup_env.SetupJob(_fake_plan(tmp_path, fail=True), check=lambda py: (True, "never asked"))
    assert job.start().wait(60) and not job.ok
    assert "installing failed (exit 3)" in job.message and "setup.log" in job.message
    assert setup_env.installed_python(tmp_path / "env") is None  # a half-made environment is not taken for one


def test_failed_check_is_not_installed(tmp_path):
    job = setup_env.SetupJob(_fake_plan(tmp_path), check=lambda py: (False, "cannot import the pipeline"))
    assert job.start().wait(60) and not job.ok and "check failed: cannot import the pipeline" in job.message
    assert setup_env.installed_python(tmp_path / "env") is None


def test_button_reports_a_missing_source(addon, tmp_path):
    bpy = pytest.importorskip("bpy")
    from blender_addon.preferences import get_prefs

    prefs = get_prefs(bpy.context)
    prefs.source_dir = str(tmp_path)  # not a checkout
    try:
        assert bpy.ops.photo2scene.setup_pipeline() == {"CANCELLED"}
    except RuntimeError as exc:  # Blender raises the operator's ERROR report in background mode
        assert "no photo2scene source found" in str(exc)
    assert prefs.setup_status.startswith("no photo2scene source found")
    prefs.source_dir = ""


def test_preferences_draw_the_setup_box(addon):
    bpy = pytest.importorskip("bpy")
    from addon_fixtures import FakeLayout
    from blender_addon.preferences import PHOTO2SCENE_Preferences, get_prefs

    prefs = get_prefs(bpy.context)
    layout = FakeLayout()

    class Drawn:  # the preferences with a recording layout
        def __getattr__(self, name):
            return getattr(prefs, name)

    view = Drawn()
    view.__dict__["layout"] = layout
    PHOTO2SCENE_Preferences.draw(view, bpy.context)
    operators = [entry[1] for entry in layout.log if entry[0] == "operator"]
    assert "photo2scene.setup_pipeline" in operators and "photo2scene.check_python" in operators
