"""Image Editor tools: click-based segment correction, material clicks and crop pairs (docs/addon.md).

`client` is bpy-free (the serve client, masks, bundle writes); `ui` holds the properties, operators and the panel
and is imported only by `register()`, like the rest of the add-on.
"""

from __future__ import annotations


def register() -> None:
    from . import ui

    ui.register()


def unregister() -> None:
    from . import ui

    ui.unregister()
