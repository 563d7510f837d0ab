"""Click-based mask correction: positive/negative clicks -> a mask, refined click after click.

- `ClickSession` (session.py): one target; features computed once per image; previous masks normalised whatever
  made them; small targets zoomed into.
- `MultiSurfaceSession` (multi.py): many adjacent surfaces in one label map with deliberate overlap rules.
- Backends: `OfflineSegmenter` (offline.py, no weights: graph cut on colour/texture words with geodesic click
  reach and a flood guard, depth optional) and `SamBackend` (sam.py, when a SAM checkpoint is on the machine).
- `photo2scene serve` (serve.py): JSON lines over stdin/stdout holding the models.
- clicks.py: the standard click simulation and NoC metrics.
"""

from .session import ClickSession, SessionParams
from .types import Click

__all__ = ["Click", "ClickSession", "SessionParams"]
