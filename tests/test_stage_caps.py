"""Budgets a bundle's config.json could set to run for ever are capped in every stage (issue 19); the caps can be
raised deliberately."""

import pytest

from p2s_common.errors import InputError
from pipeline.stages.config import ReconstructConfig
from pipeline.stages.materials_lights.config import check_budgets as check_materials_lights
from pipeline.stages.objects.config import check_budgets as check_objects
from pipeline.stages.room.config import check_budgets as check_room


def test_defaults_are_within_every_cap():
    config = ReconstructConfig()
    check_room(config.room)
    check_objects(config.objects)
    check_materials_lights(config.materials_lights)


@pytest.mark.parametrize("section, check, name, cap", [
    ("room", check_room, "refine_iters", "max_iters"),
    ("room", check_room, "ransac_iters", "max_ransac_iters"),
    ("room", check_room, "spp", "max_spp"),
    ("objects", check_objects, "refine_iters", "max_iters"),
    ("objects", check_objects, "fit_candidates", "max_candidates"),
    ("objects", check_objects, "yaw_steps", "max_candidates"),
    ("objects", check_objects, "fit_spp", "max_spp"),
])
def test_a_budget_over_its_cap_is_one_line_naming_the_option(section, check, name, cap):
    cfg = getattr(ReconstructConfig(), section)
    setattr(cfg, name, 10 ** 9)
    flag = f"--{section}.{cap.replace('_', '-')}"
    with pytest.raises(InputError, match=rf"^{section}\.{name}=1000000000 is over the cap {section}\.{cap}=\d+; "
                                         rf"raise it with {flag} 1000000000 if you mean it$"):
        check(cfg)
    setattr(cfg, cap, 10 ** 9)  # the user raised the cap
    check(cfg)
    setattr(cfg, name, 2.5)  # a float from a hand-edited config.json
    with pytest.raises(InputError, match=rf"^{section}\.{name}=2\.5: expected a whole number >= 0$"):
        check(cfg)
