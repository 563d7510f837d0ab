"""CLI actions, thumbnails and the CLIP index (tiny random CLIP: no weights needed)."""

from __future__ import annotations

import numpy as np
import pytest

from materials_db import cli, list_materials
from p2s_common.errors import InputError


def _run(argv):
    import argparse

    p = argparse.ArgumentParser()
    cli.configure(p)
    return cli.run(p.parse_args(argv))


def test_list_and_show(capsys):
    assert _run(["list", "--category", "metal"]) == 0
    assert "brushed_steel" in capsys.readouterr().out
    assert _run(["show", "oak_planks"]) == 0
    assert "grain_scale" in capsys.readouterr().out
    with pytest.raises(InputError):
        _run(["show", "no_such_material"])


def test_thumbs_and_tiny_index(tmp_path):
    names = list_materials()[:3]
    assert _run(["thumbs", *names, "--out", str(tmp_path), "--size", "32"]) == 0
    assert all((tmp_path / f"{n}_lit.jpg").exists() and (tmp_path / f"{n}_flat.jpg").exists() for n in names)
    from PIL import Image

    def rows(name, kind):  # mean brightness of the top and bottom thirds
        img = np.asarray(Image.open(tmp_path / f"{name}_{kind}.jpg").convert("L"), np.float32) / 255.0
        return img[:10].mean(), img[-10:].mean()

    # Cycles' preview, not the swatch: the metal mirrors the studio sky, dark above the horizon and bright below
    # it in the image, while its flat swatch (base colour) is one grey.
    assert "brushed_aluminium" in names
    top, bottom = rows("brushed_aluminium", "lit")
    assert bottom - top > 0.2, (top, bottom)
    assert abs(np.subtract(*rows("brushed_aluminium", "flat"))) < 0.05

    from materials_db.index import build_index, load_index, query
    from p2s_common.clip import embed_images, tiny_clip_for_tests

    model, pre = tiny_clip_for_tests()
    out = build_index(model, pre, names, tmp_path, "tiny", tmp_path / "idx.npz")
    got_names, emb, tag = load_index(out)
    assert got_names == names and emb.shape[0] == 3 and tag == "tiny"
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-2)
    q = embed_images(model, pre, [Image.open(tmp_path / f"{names[1]}_lit.jpg")])[0]
    assert query(q, got_names, emb, k=1)[0][0] == names[1]

    # Staleness: a library material the index lacks, and one whose lit thumbnail was re-rendered since.
    from materials_db.index import stale_materials

    extra = list_materials()[3]
    assert stale_materials(out, names, tmp_path) == []
    assert stale_materials(out, names + [extra], tmp_path) == [extra]
    lit = tmp_path / f"{names[0]}_lit.jpg"
    Image.open(lit).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(lit)
    assert stale_materials(out, names, tmp_path) == [names[0]]
    old_format = tmp_path / "old.npz"  # an index written before digests: checked by name only
    np.savez(old_format, names=np.array(names), embeddings=emb, model=np.array("tiny"))
    assert stale_materials(old_format, names + [extra], tmp_path) == [extra]


def test_clip_loader_says_what_to_download(monkeypatch, tmp_path):
    from p2s_common import clip
    from p2s_common.errors import SetupError

    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(SetupError, match="Download"):
        clip.load_clip(allow_download=False, cache_dir=str(tmp_path))



def test_broken_user_library_is_a_one_line_cli_error(tmp_path, monkeypatch, capsys):
    """A user material folder with a file that is not JSON, or a material named like a shipped one: `photo2scene`
    exits 2 with one line naming the file(s), not a traceback."""
    import json

    from materials_db import load_graph
    from pipeline.app.cli import main

    oak = json.dumps(load_graph("oak_planks").to_dict())
    lib = tmp_path / "mine"
    (lib / "wood").mkdir(parents=True)
    monkeypatch.setenv("PHOTO2SCENE_MATERIALS", str(lib))  # scanned afresh: the cache is keyed by the folders
    broken = lib / "wood" / "half_saved.json"
    broken.write_text('{"format": "photo2scene.material/1", "name": ')
    assert main(["materials", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(broken) in err and "not valid JSON" in err
    broken.unlink()
    (lib / "wood" / "oak_planks.json").write_text(oak)
    assert main(["materials", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "defined twice" in err and str(lib / "wood" / "oak_planks.json") in err
