"""Creating the pipeline's Python environment from inside Blender (bpy-free, standard library only).

The add-on runs the pipeline as a separate process (jobs.py) with a Python that has photo2scene installed. An
artist who installed the extension zip has none; the preferences' "Set Up Pipeline" button builds one with the same
steps as the README's `make setup` (Makefile): libLLVM >= 16 through apt when it is missing (Dr.Jit's CPU backend
needs it), a Python 3.11 virtual environment, `pip install -e SOURCE[test,learned]` from a photo2scene checkout. The
environment goes into the add-on's data folder (`env/`), where `resolve_python` finds it again on the next start;
every command and its output go to `env/setup.log`.

`plan_setup` decides what to run (or says in one sentence why it cannot); `SetupJob` runs the steps on a thread and
reports progress; both are tested headless without installing anything.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

PYTHON_VERSION = (3, 11)  # bpy 5.0.1 (the .blend export) is built for Python 3.11 only: the Makefile's PYTHON
LLVM_PACKAGE = "libllvm19"  # the Makefile's apt package
LLVM_MIN = 16  # Dr.Jit's LLVM backend needs libLLVM >= 16
LLVM_GLOBS = ("/usr/lib/x86_64-linux-gnu/libLLVM-*.so*", "/usr/lib/aarch64-linux-gnu/libLLVM-*.so*",
              "/usr/lib/llvm-*/lib/libLLVM*.so*", "/usr/lib64/libLLVM*.so*", "/opt/homebrew/opt/llvm/lib/libLLVM.dylib",
              "/usr/local/opt/llvm/lib/libLLVM.dylib")
LOG_NAME = "setup.log"


class SetupProblem(Exception):
    """Set-up cannot start: the message says what is missing and how to fix it (one line)."""


@dataclass
class Step:
    """One command of the set-up."""

    title: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class SetupPlan:
    """What `SetupJob` runs: the steps in order, the environment's interpreter at the end, and notes for the user
    (e.g. that libLLVM is already there)."""

    env_dir: Path
    source: Path
    steps: list[Step]
    python: Path
    notes: list[str] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.env_dir / LOG_NAME


# ---------------------------------------------------------------------------------------------------- detection

def env_python(env_dir: str | os.PathLike) -> Path:
    """The interpreter of a virtual environment folder (POSIX or Windows layout)."""
    env_dir = Path(env_dir)
    windows = env_dir / "Scripts" / "python.exe"
    return windows if windows.is_file() else env_dir / "bin" / "python"


def installed_python(env_dir: str | os.PathLike) -> str | None:
    """The interpreter of a finished set-up in `env_dir` (the success marker `.installed` is there), else None."""
    python = env_python(env_dir)
    return str(python) if python.is_file() and (Path(env_dir) / ".installed").is_file() else None


def python_version(python: str, timeout: float = 20.0) -> tuple[int, int] | None:
    """(major, minor) of an interpreter, or None when it cannot be run."""
    try:
        proc = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                              text=True, timeout=timeout)
        major, minor = proc.stdout.split()[:2]
        return int(major), int(minor)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def find_python311(candidates: Sequence[str] = ()) -> str | None:
    """A Python 3.11 to create the environment with: the given candidates, then python3.11 on PATH and in the
    usual places (deadsnakes, pyenv, Homebrew)."""
    names = list(candidates) + [shutil.which("python3.11") or "", "/usr/bin/python3.11", "/usr/local/bin/python3.11",
                                "/opt/homebrew/bin/python3.11",
                                *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11*/bin/python3.11"))),
                                shutil.which("python3") or ""]
    for name in names:
        if name and Path(name).is_file() and python_version(name) == PYTHON_VERSION:
            return name
    return None


def find_llvm(globs: Sequence[str] = LLVM_GLOBS, environ: dict[str, str] | None = None) -> str | None:
    """A libLLVM >= 16 Dr.Jit can use: DRJIT_LIBLLVM_PATH when it names a file, else the newest one found."""
    environ = os.environ if environ is None else environ
    given = environ.get("DRJIT_LIBLLVM_PATH")
    if given and Path(given).is_file():
        return given
    best: tuple[int, str] | None = None
    for pattern in globs:
        for path in glob.glob(pattern):
            match = re.search(r"(?:libLLVM-|llvm-)(\d+)", path)
            version = int(match.group(1)) if match else 0
            if version >= LLVM_MIN and (best is None or version > best[0]):
                best = (version, path)
    return best[1] if best else None


def is_source_checkout(folder: str | os.PathLike) -> bool:
    """Whether `folder` is a photo2scene source tree (pyproject.toml naming photo2scene, and the pipeline package)."""
    folder = Path(folder)
    try:
        text = (folder / "pyproject.toml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(re.search(r'^name\s*=\s*"photo2scene"', text, re.M)) and (folder / "pipeline" / "__init__.py").is_file()


def find_source(addon_dir: str | os.PathLike, chosen: str = "") -> Path | None:
    """The photo2scene source to install: the chosen folder, else the checkout the add-on sits in (a development
    link), else None."""
    if chosen:
        return Path(chosen).expanduser().resolve() if is_source_checkout(chosen) else None
    parent = Path(addon_dir).resolve().parent
    return parent if is_source_checkout(parent) else None


def apt_step(is_root: bool | None = None, which: Callable[[str], str | None] = shutil.which) -> Step:
    """The apt-get command for libLLVM: run directly as root, through pkexec (a graphical password prompt: Blender
    has no terminal for sudo) otherwise. SetupProblem when apt or a way to become root is missing."""
    if which("apt-get") is None:
        raise SetupProblem(f"libLLVM >= {LLVM_MIN} is missing and apt-get is not available here: install LLVM "
                           f"{LLVM_MIN} or newer with your system's package manager (or set DRJIT_LIBLLVM_PATH to "
                           "its libLLVM), then press Set Up again")
    is_root = (os.geteuid() == 0) if is_root is None and hasattr(os, "geteuid") else bool(is_root)
    script = f"apt-get update -qq && apt-get install -y -qq {LLVM_PACKAGE}"
    if is_root:
        return Step(f"installing {LLVM_PACKAGE} (apt)", ["sh", "-c", script])
    if which("pkexec") is not None:
        return Step(f"installing {LLVM_PACKAGE} (apt, asks for your password)", ["pkexec", "sh", "-c", script])
    raise SetupProblem(f"libLLVM >= {LLVM_MIN} is missing: run `sudo apt-get install {LLVM_PACKAGE}` in a terminal "
                       "(Blender cannot ask for the password here), then press Set Up again")


def plan_setup(env_dir: str | os.PathLike, source: Path | None, python311: str | None = None,
               llvm: str | None = None, apt: Callable[[], Step] = apt_step) -> SetupPlan:
    """The steps that create the pipeline environment in `env_dir` from `source`. Raises SetupProblem (one line
    naming the fix) when there is no source checkout or no Python 3.11, or libLLVM is missing and apt cannot
    install it."""
    if source is None:
        raise SetupProblem("no photo2scene source found: set Source Folder to a photo2scene checkout (the folder "
                           "with pyproject.toml and pipeline/), then press Set Up again")
    if python311 is None:
        raise SetupProblem("Python 3.11 was not found (the pipeline's .blend export needs bpy 5.0.1, which is built "
                           "for 3.11 only): install it (e.g. `sudo apt-get install python3.11 python3.11-venv`, or "
                           "from python.org) and press Set Up again")
    env_dir = Path(env_dir)
    python = env_python(env_dir)
    steps, notes = [], []
    if llvm is None:
        steps.append(apt())
    else:
        notes.append(f"libLLVM found: {llvm}")
    steps += [
        Step("creating the virtual environment (Python 3.11)", [python311, "-m", "venv", str(env_dir)]),
        Step("updating pip", [str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"]),
        Step("installing photo2scene and its packages (torch, Mitsuba, bpy: several minutes)",
             [str(python), "-m", "pip", "install", "-q", "-e", f"{source}[test,learned]"]),
    ]
    return SetupPlan(env_dir, Path(source), steps, python, notes)


# ---------------------------------------------------------------------------------------------------- running

class SetupJob:
    """Runs a plan's steps one after another on a thread, appending each command and its output to the log.

    `progress` (0..1), `status` (a line for the UI), `done`, `ok` and `message` are read from the main thread;
    `cancel()` stops the running command. The success marker `.installed` is written last, so an environment
    that failed half-way is not taken for a finished one."""

    def __init__(self, plan: SetupPlan, check: Callable[[str], tuple[bool, str]] | None = None):
        self.plan = plan
        self.check = check
        self.progress = 0.0
        self.status = "starting"
        self.done = False
        self.ok = False
        self.message = ""
        self._proc: subprocess.Popen | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="photo2scene-setup", daemon=True)

    def start(self) -> "SetupJob":
        self.plan.env_dir.mkdir(parents=True, exist_ok=True)
        (self.plan.env_dir / ".installed").unlink(missing_ok=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return self.done

    def cancel(self) -> None:
        self._cancelled = True
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()

    def _run(self) -> None:
        steps = self.plan.steps
        try:
            with open(self.plan.log_path, "a", encoding="utf-8") as log:
                for note in self.plan.notes:
                    log.write(f"# {note}\n")
                for i, step in enumerate(steps):
                    if self._cancelled:
                        return self._finish(False, "set-up cancelled")
                    self.status = f"{i + 1}/{len(steps)}: {step.title}"
                    self.progress = i / (len(steps) + 1)
                    log.write(f"$ {' '.join(step.argv)}\n")
                    log.flush()
                    try:
                        self._proc = subprocess.Popen(step.argv, stdout=log, stderr=subprocess.STDOUT,
                                                      stdin=subprocess.DEVNULL, env={**os.environ, **step.env})
                    except OSError as exc:
                        return self._finish(False, f"{step.title} failed: {exc.strerror or exc}; "
                                                   f"see {self.plan.log_path}")
                    code = self._proc.wait()
                    log.write(f"# exit {code}\n")
                    log.flush()
                    if code != 0:
                        why = "cancelled" if self._cancelled else f"failed (exit {code})"
                        return self._finish(False, f"{step.title} {why}; see {self.plan.log_path}")
                self.status = "checking the environment"
                self.progress = len(steps) / (len(steps) + 1)
                ok, message = self.check(str(self.plan.python)) if self.check else (True, "installed")
                log.write(f"# check: {message}\n")
                if ok:
                    (self.plan.env_dir / ".installed").write_text(str(self.plan.source) + "\n", encoding="utf-8")
                return self._finish(ok, message if ok else f"installed, but the check failed: {message}")
        except OSError as exc:
            return self._finish(False, f"cannot write the set-up log {self.plan.log_path}: {exc.strerror or exc}")

    def _finish(self, ok: bool, message: str) -> None:
        self.ok, self.message = ok, message
        self.progress = 1.0 if ok else self.progress
        self.status = message
        self.done = True
