"""RGB8 pictures to and from PNG through the ffmpeg command line, for the
training tools' pictures and the engine eval's frames (one ffmpeg call per
file; no image package is installed for /usr/bin/python3)."""
import subprocess

import numpy as np


def write_rgb_png(path, img, scale=1):
    """img [H, W, 3] uint8 -> PNG at path, enlarged `scale` times (nearest)."""
    h, w, _ = img.shape
    vf = ["-vf", f"scale=iw*{scale}:ih*{scale}:flags=neighbor"] if scale != 1 else []
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                    "-i", "-", *vf, path], input=np.ascontiguousarray(img).tobytes(), check=True)


def read_rgb_pngs(pattern, count, size):
    """A numbered PNG sequence (pattern with %05d, from 0) -> [count, size, size, 3] uint8."""
    out = subprocess.run(["ffmpeg", "-loglevel", "error", "-start_number", "0", "-i", pattern, "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(out, dtype=np.uint8)
    if frames.size != count * size * size * 3:
        raise RuntimeError(f"{pattern}: read {frames.size // (size * size * 3)} frames of {count}")
    return frames.reshape(count, size, size, 3)
