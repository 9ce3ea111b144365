"""Episode videos as GIFs whose frames say what they show: a title line (task, episode, step,
action) above the true room and what the agent remembers, each panel labelled."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ACTION_NAMES = ("turn left", "turn right", "forward", "pick up", "drop", "toggle", "done")
PANELS = ("true room", "what the agent remembers (hatched: never seen)")
TEXT_ROWS = 2  # the title line, then the panels' labels
BACKGROUND, INK = (255, 255, 255), (20, 20, 20)


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)  # scalable where Pillow has FreeType
    except (TypeError, OSError):
        return ImageFont.load_default()


def titled_frame(room: np.ndarray, memory: np.ndarray, title: str) -> np.ndarray:
    """The room and the memory (H, W, 3 each) side by side, under ``title`` and a label each."""
    h, w = room.shape[:2]
    size = max(10, min(16, w // 16))
    band = size + 6
    canvas = Image.new("RGB", (2 * w, h + TEXT_ROWS * band), BACKGROUND)
    canvas.paste(Image.fromarray(room), (0, TEXT_ROWS * band))
    canvas.paste(Image.fromarray(memory), (w, TEXT_ROWS * band))
    draw, font = ImageDraw.Draw(canvas), _font(size)
    draw.text((4, 3), title, fill=INK, font=font)
    for k, label in enumerate(PANELS):
        draw.text((k * w + 4, band + 3), label, fill=INK, font=_font(max(9, size - 3)))
    return np.asarray(canvas)


def frame_title(task: str, episode: int, step: int, action: int | None) -> str:
    did = "start" if action is None else f"action: {ACTION_NAMES[action]}"
    return f"{task}   episode {episode}   step {step}   {did}"


def save_gif(path: Path, frames: list[np.ndarray], fps: float = 5.0) -> None:
    """Write RGB frames (H, W, 3) uint8 as a looping GIF."""
    iio.imwrite(path, np.stack(frames), extension=".gif", duration=1000.0 / fps, loop=0)
