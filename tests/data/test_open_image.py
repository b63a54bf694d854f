"""The one image loader (data.sources.open_image) on awkward and hostile files: every mode
Pillow opens, EXIF orientation, animations, tiny images, truncated files and decompression
bombs, each as an image or as one DataError line."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli import main
from cnnlab.core.errors import DataError
from cnnlab.data.sources import open_image, read_image, to_array


def bomb(path: Path, side: int = 20_000) -> Path:
    """A PNG of a few dozen bytes whose header says side x side pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit gray
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path, monkeypatch):
    path = bomb(tmp_path / "bomb.png")
    assert path.stat().st_size < 100
    with pytest.raises(DataError, match=r"is 20000x20000 = 400,000,000 pixels, over the limit of "
                       r"100,000,000 pixels; .* set CNNLAB_MAX_PIXELS higher"):  # fmt: skip
        open_image(path)
    monkeypatch.setenv("CNNLAB_MAX_PIXELS", "10")
    with pytest.raises(DataError, match="is 4x4 = 16 pixels, over the limit of 10 pixels"):
        open_image(bomb(tmp_path / "small.png", side=4))
    monkeypatch.setenv("CNNLAB_MAX_PIXELS", "lots")
    with pytest.raises(DataError, match="CNNLAB_MAX_PIXELS must be a whole number"):
        open_image(path)


def test_a_bomb_through_predict_is_one_line(trained_run, tmp_path, capsys):
    assert main(["predict", str(trained_run), str(bomb(tmp_path / "bomb.png"))]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "over the limit of 100,000,000 pixels" in err


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "LA"])
def test_every_mode_becomes_gray_or_rgb(tmp_path, mode):
    rng = np.random.default_rng(0)
    base = Image.fromarray(rng.integers(0, 255, (9, 7, 3), dtype=np.uint8))
    im = base.convert(mode) if mode not in ("I;16", "I", "F") else base.convert("L").convert(mode)
    suffix = ".tif" if mode in ("CMYK", "I", "F") else ".png"
    path = tmp_path / f"x{suffix}"
    im.save(path)
    opened = open_image(path)
    for channels in (1, 3):
        arr = to_array(opened, channels, (5, 5))
        assert arr.shape == (channels, 5, 5) and arr.dtype == np.uint8


def test_exif_orientation_animation_and_tiny_images(tmp_path):
    tall = Image.fromarray(np.zeros((40, 10, 3), np.uint8))  # 10 wide, 40 high
    exif = tall.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to view"
    tall.save(tmp_path / "rot.jpg", exif=exif)
    assert open_image(tmp_path / "rot.jpg").size == (40, 10)  # upright: 40 wide, 10 high
    frames = [Image.fromarray(np.full((6, 6), v, np.uint8)) for v in (10, 200)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    first = to_array(open_image(tmp_path / "anim.gif"), 1, (6, 6))
    assert abs(int(first.mean()) - 10) < 3  # the first frame
    Image.fromarray(np.array([[255]], np.uint8)).save(tmp_path / "dot.png")
    assert to_array(open_image(tmp_path / "dot.png"), 1, (28, 28)).shape == (1, 28, 28)


def test_truncated_empty_and_random_files_are_one_error(tmp_path):
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "ok.png")
    data = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "noise.png").write_bytes(np.random.default_rng(1).bytes(300))
    for name in ("cut.png", "empty.png", "noise.png"):
        with pytest.raises(DataError, match=f"cannot read image .*{name}"):
            read_image(tmp_path / name)
    with pytest.raises(DataError, match="does not exist"):
        open_image(tmp_path / "missing.png")
