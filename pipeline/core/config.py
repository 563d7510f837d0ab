"""Run configuration: nested dataclasses whose attribute docstrings become the CLI help (nerfstudio style).

Every field can be set from the command line as `--<section>.<field>` (e.g. `--room.refine-iters 20`); the
resolved config is saved in each bundle, and every random choice takes its seed from `seed`.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, get_type_hints

from p2s_common.errors import InputError


@dataclass
class Schedule:
    """Learning-rate schedule of an optimisation loop (pipeline/core/optimise.py): every parameter's rate is its stage's
    rate times a factor that decays from 1 to `final` over the run."""

    kind: str = "linear"
    """linear, cosine, step (three equal plateaus: 1, sqrt(final), final) or constant."""
    final: float = 0.1
    """The factor at the last iteration: large early steps, then settle despite Monte-Carlo noise."""
    warmup: int = 0
    """Iterations of linear warm-up before the decay (Adam's first steps are full-size whatever the gradient)."""


@lru_cache(maxsize=None)
def field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings of a dataclass: the string literal that follows each annotated field."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, nxt in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, prefix: str = "",
                         presets: dict | None = None, defaults: Any = None) -> None:
    """Add `--[prefix.]field` options for every leaf field of the dataclass `cls` (defaults left unset), and
    `--preset` at the top level when the config has presets (a `PRESETS` class attribute). The help shows the
    values of `defaults` (default: `cls()`): a nested section may default differently from its class."""
    defaults = defaults if defaults is not None else cls()
    presets = presets if presets is not None else getattr(cls, "PRESETS", None)
    if not prefix and presets:
        parser.add_argument("--preset", choices=sorted(presets), help="draft: fewer iterations and samples, "
                            "for a quick look; final: the defaults. Options given after it override it.")
    hints = get_type_hints(cls)
    group = parser.add_argument_group(prefix.rstrip(".") or "config", cls.__doc__)
    for f in dataclasses.fields(cls):
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            add_config_arguments(parser, kind, f"{prefix}{f.name}.", defaults=getattr(defaults, f.name))
            continue
        default = getattr(defaults, f.name)
        flag = "--" + (prefix + f.name).replace("_", "-")
        # argparse %-formats help strings; docstrings say "4 %" freely.
        help_text = f"{field_docs(cls).get(f.name, '')} (default: {default})".replace("%", "%%")
        group.add_argument(flag, dest="cfg:" + prefix + f.name, type=_parse_bool if kind is bool else kind,
                           default=None, help=help_text,
                           metavar=kind.__name__.upper())


def _parse_bool(text: str) -> bool:
    """`--x.flag 0` must mean False (argparse's type=bool would read any non-empty string as True)."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected a yes/no value (1/0, true/false), not {text!r}")


def config_from_args(args: argparse.Namespace, cls: type, base: Any = None,
                     presets: dict | None = None) -> Any:
    """Build the config from `base` (default: the defaults, with `--preset` if given) overridden by the options
    the user gave."""
    presets = presets if presets is not None else getattr(cls, "PRESETS", {})
    config = base if base is not None else apply_preset(cls(), getattr(args, "preset", None), presets)
    for key, value in vars(args).items():
        if key.startswith("cfg:") and value is not None:
            set_path(config, key[4:], value)
    return config


def set_path(config: Any, dotted: str, value: Any) -> None:
    """Set `room.refine_iters`-style paths on a nested config."""
    *parents, leaf = dotted.split(".")
    target = config
    for name in parents:
        target = getattr(target, name)
    if not hasattr(target, leaf):
        raise KeyError(dotted)
    setattr(target, leaf, value)


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def from_dict(data: dict[str, Any], cls: type) -> Any:
    """Inverse of `to_dict`; unknown keys are an error so a stale config is noticed."""
    hints = get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        if key not in hints:
            raise KeyError(f"unknown config field {cls.__name__}.{key}")
        kwargs[key] = from_dict(value, hints[key]) if dataclasses.is_dataclass(hints[key]) else value
    return cls(**kwargs)


def apply_preset(config: Any, name: str | None, presets: dict | None = None) -> Any:
    """Set a preset's fields (dotted paths) on `config` (in place) and return it."""
    presets = getattr(type(config), "PRESETS", {}) if presets is None else presets
    for dotted, value in presets.get(name or "final", {}).items():
        set_path(config, dotted, value)
    return config


def check_caps(section: str, cfg: Any, caps: dict[str, tuple[str, ...]]) -> None:
    """Refuse budgets beyond their caps. `caps` maps a cap field of `cfg` (e.g. "max_iters") to the fields it
    bounds. A config.json asking for 1e9 iterations would otherwise run for ever; the error names the field, the cap
    and the option that raises it (caps a user raises deliberately)."""
    flag = section.replace("_", "-")
    for cap_name, names in caps.items():
        cap = getattr(cfg, cap_name)
        for name in names:
            value = getattr(cfg, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InputError(f"{section}.{name}={value!r}: expected a whole number >= 0")
            if value > cap:
                raise InputError(f"{section}.{name}={value} is over the cap {section}.{cap_name}={cap}; raise it "
                                 f"with --{flag}.{cap_name.replace('_', '-')} {value} if you mean it")
