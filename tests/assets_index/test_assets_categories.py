"""Category names from other databases map onto the canonical vocabulary."""

import pytest

from assets_index.categories import (UNKNOWN, category_from_texts, leading_category, normalize_category,
                                     related_categories)


@pytest.mark.parametrize("label, expected", [
    ("sofa", "sofa"),
    ("Three-Seat / Multi-seat Sofa", "sofa"),
    ("L-shaped Sofa", "sofa"),
    ("couch", "sofa"),
    ("Dining Chair", "chair"),
    ("armchair", "armchair"),
    ("coffee table", "coffee table"),
    ("CoffeeTable", "coffee table"),
    ("Corner/Side Table", "side table"),
    ("table_lamp_01", "lamp"),          # the head noun (last word) decides
    ("Pendant Lamp", "ceiling lamp"),  # 3D-FUTURE: hangs from the ceiling
    ("Chandelier", "ceiling lamp"),
    ("console table", "sideboard"),
    ("throw pillow", "cushion"),
    ("ceramic vase", "vase"),
    ("bench", "bench"),
    ("drapes", "curtain"),
    ("roller blind", "blind"),
    ("Bed Frame", "bed"),
    ("Drawer Chest / Corner cabinet", "chest of drawers"),
    ("TV Stand", "tv stand"),
    ("bookcase", "bookshelf"),
    ("flowerpot", "plant"),
    ("chairs", "chair"),
    ("dresser_mirror", "chest of drawers"),  # SUN RGB-D: the dresser and its mirror, one floor-standing piece
    ("wall mirror", "mirror"),
    ("teapot", UNKNOWN),
    ("", UNKNOWN),
])
def test_normalize_category(label, expected):
    assert normalize_category(label) == expected


def test_category_from_texts_takes_first_hint_that_matches():
    assert category_from_texts([None, "model_07", "Chairs", "furniture"]) == "chair"
    assert category_from_texts(["x", "y"]) == UNKNOWN


def test_related_categories_start_with_the_category_itself():
    assert related_categories("couch")[0] == "sofa"
    assert "desk" in related_categories("table")


def test_leading_category_reads_the_first_word():
    assert leading_category("lamp_table") == "lamp"
    assert leading_category("coffee_table_01") == "coffee table"  # the longer match
    assert leading_category("ceramic_vase") is None
