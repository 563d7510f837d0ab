"""`photo2scene synth`: synthetic room cases, a Cycles photo with exact estimates and ground truth.

A case is made in three steps, kept apart so each can be tested on its own:

1. `sample_layout(seed, ...)` (numpy only): the room box and its surfaces, an optional window, ceiling area lights,
   3-5 furniture pieces made of boxes, the camera and K nearby cameras. Every random choice is drawn from one
   `numpy.random.Generator` seeded with `seed`, so a seed always gives the same layout.
2. The layout is built in Blender with the `bpy` module; the light power is balanced with two tiny test renders so
   the photo is neither dark nor blown out; the photo is rendered with Cycles on the CPU, view transform Standard.
3. Depth and segmentation are ray cast at the pixel centres through the meshes Blender built (a BVH), and checked
   against the layout's own analytic ray caster, `trace_layout`.

Conventions (docs/case_format.md): Blender's world frame, Z up, metres, floor at z = 0. The room box is centred
on the origin in x and y with yaw 0. Pixel (i, j) (column, row; row 0 at the top) looks along
((i + 0.5 - W/2) / f, -(j + 0.5 - H/2) / f, -1) in camera coordinates, f = (H/2) / tan(fov_y/2); rotating that
vector into the world gives a ray whose parameter is the z-depth. Segment ids: 1 floor, 2 ceiling, 3-6 the walls
on the -y, +x, +y, -x sides, then the window when there is one, then the furniture in placement order;
segments.json lists exactly the ids present in segmentation.png. Furniture boxes: local +y is the front (a sofa's
seat side), local -y the back (against a wall).

CLI: `photo2scene synth OUT_DIR` writes one case into OUT_DIR itself; with `--count N` (N > 1) it writes
OUT_DIR/case_000 ... case_{N-1}, case i from seed `--seed` + i. The shipped example is
`photo2scene synth examples/living_room --seed 5 --theme living` (320x240, 64 samples).

Parts: layout.py (numpy only: sampling, ray casting, ground truth), blender_scene.py (bpy: building and
rendering), case_writer.py (the case folder), cli.py (the command). A package of its own: it imports
nothing of the pipeline (only p2s_common), so neither leans on the other (docs/architecture.md).
"""
