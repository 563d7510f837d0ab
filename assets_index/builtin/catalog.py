"""The built-in starter library: which generator, with which parameters, makes each model.

Models are generated on the fly (deterministic, milliseconds each), so the repository ships code, not mesh files.
Bump `GENERATOR_VERSION` whenever a generator's geometry changes: indexes then re-render those models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from . import decor, seating, soft, storage, tables
from .builder import Builder

GENERATOR_VERSION = 2


@dataclass(frozen=True)
class ModelSpec:
    """One built-in model: a generator function and its parameters."""

    id: str
    category: str
    name: str
    make: Callable[..., Builder]
    params: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Builder:
        return self.make(**self.params)


def _m(id: str, category: str, name: str, make: Callable[..., Builder], **params: Any) -> ModelSpec:
    return ModelSpec(id, category, name, make, params)


D = "drawer"
O = "open"

MODELS: tuple[ModelSpec, ...] = (
    # Sofas
    _m("sofa_track_3seat", "sofa", "Three-seat sofa, track arms", seating.sofa),
    _m("sofa_rolled_2seat", "sofa", "Loveseat, rolled arms", seating.sofa, width=1.6, seats=2, arms="rolled",
       arm_width=0.2, legs="round", fabric="fabric_beige", leg_color="wood_mid"),
    _m("sofa_low_modern", "sofa", "Low modern sofa, thin arms, hairpin legs", seating.sofa, width=2.2, depth=0.88,
       height=0.72, seat=0.4, arm_width=0.1, arm_height=0.55, legs="hairpin", leg_height=0.14, fabric="fabric_blue",
       leg_color="metal_black"),
    _m("sofa_sectional", "sofa", "Sectional sofa with chaise", seating.sofa, width=2.6, chaise=0.75, arms="slope",
       legs="plinth", fabric="fabric_light"),
    _m("sofa_armless_leather", "sofa", "Armless leather sofa", seating.sofa, width=1.9, arms="none", seats=2,
       legs="square", fabric="leather_brown", leg_color="wood_dark", back_cushions=False, height=0.78),
    # Armchairs
    _m("armchair_club", "armchair", "Club armchair", seating.armchair, arms="track", arm_width=0.18,
       fabric="fabric_mustard", legs="taper"),
    _m("armchair_wingback", "armchair", "Wingback armchair", seating.armchair, height=1.1, arms="rolled",
       wings=True, width=0.8, fabric="fabric_green", legs="round", leg_color="wood_mid", leg_height=0.14),
    _m("armchair_leather", "armchair", "Leather armchair, slope arms", seating.armchair, arms="slope",
       fabric="leather_brown", legs="plinth", width=0.9),
    _m("armchair_lounge_wood", "armchair", "Wooden-frame lounge chair", seating.lounge_chair),
    # Chairs
    _m("chair_dining_slats", "chair", "Dining chair, slatted back", seating.chair),
    _m("chair_dining_upholstered", "chair", "Upholstered dining chair", seating.chair, back="upholstered",
       fabric="fabric_light", legs="taper", wood="wood_dark", height=0.95),
    _m("chair_windsor", "chair", "Spindle-back chair", seating.chair, back="spindles", legs="splay",
       wood="wood_light", slats=5),
    _m("chair_panel_white", "chair", "Panel-back chair, white", seating.chair, back="panel", legs="round",
       wood="paint_white", fabric="", height=0.82),
    _m("chair_office", "chair", "Office chair", seating.office_chair),
    _m("chair_armed_dining", "chair", "Dining armchair", seating.chair, back="slats", arms=True, width=0.56,
       fabric="fabric_grey", wood="wood_mid"),
    # Stools and ottomans
    _m("stool_bar", "stool", "Bar stool", seating.stool, height=0.76),
    _m("stool_low_round", "stool", "Low round stool", seating.stool, height=0.46, legs=3, footrest=False,
       wood="wood_dark", seat_fabric="leather_black"),
    _m("ottoman_square", "ottoman", "Square ottoman", seating.ottoman),
    _m("ottoman_pouf", "ottoman", "Round pouf", seating.ottoman, round_=True, legs=False, width=0.55,
       height=0.4, fabric="fabric_rust"),
    # Tables
    _m("table_dining_rect", "table", "Rectangular dining table", tables.table),
    _m("table_dining_round", "table", "Round pedestal dining table", tables.table, width=1.1, depth=1.1,
       shape="round", legs="pedestal", top_color="paint_white", leg_color="paint_white"),
    _m("table_trestle", "table", "Trestle table", tables.table, width=2.0, depth=0.95, legs="trestle",
       top_color="wood_light", apron=False),
    _m("table_metal_legs", "table", "Dining table, metal legs", tables.table, width=1.8, depth=0.9, legs="square",
       leg_color="metal_black", top_color="wood_dark", apron=False, leg_size=0.02),
    # Coffee and side tables
    _m("coffee_table_rect_shelf", "coffee table", "Coffee table with shelf", tables.table, width=1.1, depth=0.6,
       height=0.42, shelf=True, legs="square", apron=False, top_color="wood_mid"),
    _m("coffee_table_round", "coffee table", "Round coffee table", tables.table, width=0.9, depth=0.9, height=0.4,
       shape="round", legs="taper", top_color="wood_light", leg_size=0.025),
    _m("coffee_table_oval_metal", "coffee table", "Oval coffee table, hairpin legs", tables.table, width=1.2,
       depth=0.65, height=0.38, shape="oval", legs="hairpin", top_color="paint_white", leg_color="metal_black"),
    _m("side_table_square", "side table", "Square side table", tables.table, width=0.5, depth=0.5, height=0.55,
       shelf=True, apron=False, top_color="wood_dark"),
    _m("side_table_round_metal", "side table", "Round two-tier side table", tables.side_table_round),
    # Desks
    _m("desk_pedestal", "desk", "Desk with a drawer pedestal", tables.desk),
    _m("desk_simple_hairpin", "desk", "Simple desk, hairpin legs", tables.desk, drawers="none", legs="hairpin",
       width=1.2, depth=0.6, wood="wood_mid"),
    _m("desk_executive", "desk", "Double-pedestal desk", tables.desk, drawers="both", width=1.6, depth=0.8,
       wood="wood_dark", body="wood_dark", handles="brass"),
    # Beds
    _m("bed_double_panel", "bed", "Double bed, panel headboard", storage.bed),
    _m("bed_king_upholstered", "bed", "King bed, upholstered headboard", storage.bed, width=1.95, length=2.2,
       head="upholstered", frame="fabric_grey", duvet="fabric_white", headboard=1.2, pillows=3),
    _m("bed_single_slats", "bed", "Single bed, slatted headboard", storage.bed, width=1.0, length=2.05,
       head="slats", frame="wood_light", duvet="fabric_blue", pillows=1, headboard=0.9),
    # Nightstands
    _m("nightstand_two_drawers", "nightstand", "Nightstand, two drawers", storage.case, width=0.48, depth=0.4,
       height=0.55, fronts=[[D], [D]], base="taper"),
    _m("nightstand_open", "nightstand", "Nightstand with open shelf", storage.case, width=0.45, depth=0.38,
       height=0.5, fronts=[[O], [D]], body="paint_white", base="legs", handle_style="knob"),
    _m("nightstand_three_drawers", "nightstand", "Three-drawer nightstand", storage.case, width=0.5, depth=0.42,
       height=0.62, fronts=[[D], [D], [D]], body="wood_dark", base="plinth", handle="brass", handle_style="knob"),
    # Cabinets, chests of drawers, wardrobes
    _m("dresser_six_drawers", "chest of drawers", "Six-drawer dresser", storage.case, width=1.4, depth=0.5,
       height=0.85, fronts=[[D, D], [D, D], [D, D]], body="wood_mid"),
    _m("chest_tall_five", "chest of drawers", "Tall chest of five drawers", storage.case, width=0.8, depth=0.48,
       height=1.2, fronts=[[D]] * 5, body="paint_white", base="taper", handle_style="knob"),
    _m("cabinet_sideboard", "cabinet", "Sideboard, doors and drawers", storage.case, width=1.6, depth=0.45,
       height=0.8, fronts=[["door", "door", "door"], [D, D, D]], body="wood_light", base="legs", leg_height=0.18,
       handle="metal_black"),
    _m("cabinet_glass", "cabinet", "Glass-door display cabinet", storage.case, width=0.9, depth=0.42, height=1.8,
       fronts=[["door", "door"], ["glass", "glass"], ["glass", "glass"]], body="wood_dark", handle="brass"),
    _m("cabinet_two_doors", "cabinet", "Two-door cabinet, painted", storage.case, width=0.9, depth=0.45,
       height=0.95, fronts=[["door", "door"]], body="paint_green", base="taper", handle="brass",
       handle_style="knob"),
    _m("wardrobe_two_doors", "wardrobe", "Two-door wardrobe", storage.case, width=1.1, depth=0.6, height=2.0,
       fronts=[[D, D], ["door", "door"]], body="paint_white", base="plinth"),
    _m("wardrobe_three_doors", "wardrobe", "Three-door wardrobe", storage.case, width=1.5, depth=0.6, height=2.1,
       fronts=[["door", "door", "door"]], body="wood_mid", base="plinth", handle="metal_black"),
    # Shelves
    _m("bookshelf_tall", "bookshelf", "Tall bookcase", storage.bookshelf),
    _m("bookshelf_wide_low", "bookshelf", "Low wide bookcase", storage.bookshelf, width=1.5, height=0.9, shelves=2,
       wood="paint_white", books=0.55, seed=1),
    _m("bookshelf_narrow_dark", "bookshelf", "Narrow dark bookcase", storage.bookshelf, width=0.6, height=1.8,
       shelves=5, wood="wood_dark", books=0.85, seed=2, back=False),
    _m("shelf_wall_single", "shelf", "Wall shelf", storage.wall_shelf),
    _m("shelf_wall_double", "shelf", "Two-board wall shelf", storage.wall_shelf, width=1.0, boards=2,
       wood="paint_white", bracket="metal_steel"),
    # TV stands and televisions
    _m("tv_stand_low", "tv stand", "Low TV stand", storage.case, width=1.6, depth=0.42, height=0.48,
       fronts=[["door", O, O, "door"]], body="wood_mid", base="taper", handle_style="none"),
    _m("tv_stand_drawers", "tv stand", "TV bench with drawers", storage.case, width=1.8, depth=0.4, height=0.45,
       fronts=[[D, D, D]], body="paint_grey", base="plinth", handle="metal_black"),
    _m("tv_55", "television", "55-inch television", decor.television),
    # Lamps
    _m("lamp_floor_drum", "lamp", "Floor lamp, drum shade", decor.floor_lamp),
    _m("lamp_floor_tripod", "lamp", "Tripod floor lamp", decor.floor_lamp, tripod=True, shade="cone",
       height=1.55, metal="wood_dark"),
    _m("lamp_arc", "lamp", "Arc floor lamp", decor.arc_lamp),
    _m("lamp_table_vase", "lamp", "Ceramic table lamp", decor.table_lamp),
    _m("lamp_table_metal", "lamp", "Metal table lamp, dome shade", decor.table_lamp, body="stem", shade="dome",
       base_color="brass", height=0.45),
    # Rugs
    _m("rug_rect_border", "rug", "Rectangular rug with border", soft.rug, fabric="rug_red", border="rug_beige"),
    _m("rug_round", "rug", "Round rug", soft.rug, width=1.6, depth=1.6, shape="round", fabric="rug_grey"),
    _m("rug_large_plain", "rug", "Large plain rug", soft.rug, width=3.0, depth=2.0, fabric="rug_blue"),
    _m("rug_runner", "rug", "Runner", soft.rug, width=0.8, depth=2.4, fabric="rug_beige", border="rug_red"),
    # Curtains and blinds
    _m("curtain_rod_pair", "curtain", "Pair of curtains on a rod", soft.curtain),
    _m("curtain_tieback", "curtain", "Tied-back curtains, open", soft.curtain, width=2.0, height=2.5, opening=0.45,
       tieback=True, fabric="fabric_beige", rod_color="brass", folds=6),
    _m("curtain_track_single", "curtain", "Single panel on a ceiling track", soft.curtain, width=1.4, height=2.6,
       panels=1, rod=False, fabric="fabric_white", folds=10, fold_depth=0.06),
    _m("curtain_pelmet", "curtain", "Curtains under a pelmet", soft.curtain, width=1.8, height=2.3, header="pelmet",
       fabric="fabric_green", opening=0.2, folds=5, fold_depth=0.1),
    _m("blind_roller", "blind", "Roller blind", soft.blind, width=1.0, height=1.4, fabric="fabric_light"),
    _m("blind_venetian", "blind", "Venetian blind", soft.blind, width=1.2, height=1.5, kind="venetian",
       rail="paint_white"),
    _m("blind_roman", "blind", "Roman blind", soft.blind, width=0.9, height=1.2, kind="roman", fabric="fabric_beige",
       pleats=5),
    # Plants
    _m("plant_bush", "plant", "Leafy plant in a terracotta pot", decor.potted_plant, height=0.7),
    _m("plant_tree", "plant", "Indoor tree", decor.potted_plant, kind="tree", height=1.7, pot_radius=0.2,
       pot_height=0.38, pot="ceramic_white", seed=1),
    _m("plant_cactus", "plant", "Cactus", decor.potted_plant, kind="cactus", height=0.6, pot_radius=0.12,
       pot_height=0.2, pot="concrete", seed=2),
    _m("plant_grass", "plant", "Grass in a tall pot", decor.potted_plant, kind="grass", height=1.1, pot_radius=0.15,
       pot_height=0.45, pot="ceramic_white", seed=3),
    # Wall decor
    _m("painting_landscape", "painting", "Framed painting, landscape", decor.framed),
    _m("painting_portrait_thin", "painting", "Thin-framed print, portrait", decor.framed, width=0.5, height=0.7,
       frame="metal_black", inner="canvas_warm", frame_width=0.015),
    _m("mirror_tall", "mirror", "Tall mirror", decor.framed, width=0.6, height=1.6, kind="mirror", inner="mirror",
       frame="brass", frame_width=0.03),
    _m("mirror_round", "mirror", "Round mirror", decor.framed, width=0.7, kind="mirror", inner="mirror",
       frame="wood_light", frame_width=0.04, round_=True),
)

BY_ID: dict[str, ModelSpec] = {m.id: m for m in MODELS}
