"""Episode videos as GIFs."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np


def save_gif(path: Path, frames: list[np.ndarray], fps: float = 5.0) -> None:
    """Write RGB frames (H, W, 3) uint8 as a looping GIF."""
    iio.imwrite(path, np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=0)
