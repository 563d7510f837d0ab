"""Camera: pose, vertical field of view with a vertical sensor fit, the photo as background. (The render size is
a render setting: builders/scene.apply_render_settings.)"""

from __future__ import annotations

import math

import bpy
from mathutils import Matrix

from ..scene_format import Camera


def build_camera(spec: Camera, collection: bpy.types.Collection, photo_path: str | None = None,
                 name: str = "Camera") -> bpy.types.Object:
    """Create the reconstruction camera from scene.json's `camera` and make it the scene's camera."""
    data = bpy.data.cameras.new(name)
    data.sensor_fit = "VERTICAL"
    data.angle_y = math.radians(spec.fov_y_deg)
    data.clip_start, data.clip_end = 0.05, 200.0
    obj = bpy.data.objects.new(name, data)
    rot = spec.rotation
    pos = spec.position
    obj.matrix_world = Matrix([[rot[0][0], rot[0][1], rot[0][2], pos[0]],
                               [rot[1][0], rot[1][1], rot[1][2], pos[1]],
                               [rot[2][0], rot[2][1], rot[2][2], pos[2]],
                               [0.0, 0.0, 0.0, 1.0]])
    collection.objects.link(obj)
    bpy.context.scene.camera = obj
    if photo_path:
        image = bpy.data.images.load(photo_path, check_existing=True)
        image.pack()  # the .blend stays complete when moved away from the bundle
        data.show_background_images = True
        background = data.background_images.new()
        background.image = image
        background.alpha = 0.5
        background.frame_method = "FIT"
    return obj
