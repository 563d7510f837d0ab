"""`photo2scene assets index | query | list` end to end, with the tiny random CLIP."""

from __future__ import annotations

import json

import pytest
from assets_fixtures import write_glb_cabinet

from pipeline.app.cli import main


@pytest.fixture
def index_dir(tmp_path, monkeypatch):
    folder = tmp_path / "index"
    monkeypatch.setenv("PHOTO2SCENE_ASSETS_INDEX", str(folder))
    return folder


def test_index_list_query(tmp_path, index_dir, capsys, fake_future):
    lib = tmp_path / "lib"
    write_glb_cabinet(lib / "cabinet.glb")
    assert main(["assets", "index", str(lib), str(fake_future), "--clip-model", "tiny-test", "--views", "1",
                 "--resolution", "32"]) == 0
    out = capsys.readouterr().out
    assert "3 models" in out and "3 added" in out

    assert main(["assets", "list", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["models"] == 3 and summary["embeddings"] and summary["categories"]["sofa"] == 1

    image = fake_future / "aaaa-sofa" / "image.jpg"
    assert main(["assets", "query", str(image), "-k", "2", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results[0]["id"] == "3d-future:aaaa-sofa" and len(results) == 2

    assert main(["assets", "query", str(image), "--category", "chair", "--index", str(index_dir)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "3d-future:bbbb-chair" in lines[0]

    # No PATH: update every known source; nothing changed.
    assert main(["assets", "index", "--clip-model", "tiny-test"]) == 0
    assert "3 unchanged" in capsys.readouterr().out


def test_category_only_index(index_dir, capsys, fake_future):
    assert main(["assets", "index", str(fake_future), "--no-clip"]) == 0
    capsys.readouterr()
    image = fake_future / "aaaa-sofa" / "image.jpg"
    assert main(["assets", "query", str(image)]) == 2
    assert "--category" in capsys.readouterr().err
    assert main(["assets", "query", str(image), "--category", "sofa"]) == 0
    assert "3d-future:aaaa-sofa" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["assets", "query", "missing.png"], "not found"),
    (["assets", "list"], "no asset index"),
    (["assets", "index", "/no/such/folder"], "does not exist"),
])
def test_user_errors_are_one_line(index_dir, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_missing_clip_weights_suggest_no_clip(index_dir, capsys, monkeypatch):
    import p2s_common.clip
    from p2s_common.errors import SetupError

    def no_weights(*args, **kwargs):
        raise SetupError("CLIP weights for ViT-B-32/laion2b_s34b_b79k are not on this machine.")

    monkeypatch.setattr(p2s_common.clip, "load_clip", no_weights)
    assert main(["assets", "index", "builtin"]) == 2
    err = capsys.readouterr().err
    assert "CLIP weights" in err and "--no-clip" in err
