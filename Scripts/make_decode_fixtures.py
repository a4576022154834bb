#!/usr/bin/env python3
"""Make the tiny image fixtures for Tests/ImageTests/DecodingTests.swift.

Writes into Tests/ImageTests/Fixtures/decode/:
  * decodable images (PNG in every colour type / bit depth / interlacing, JPEG baseline, gray,
    progressive, Adobe CMYK, a PNG named .jpg), each with a `<name>.rgb` file holding the expected
    8-bit RGB bytes (width*height*3, row-major) as decoded by an independent library;
  * broken or foreign inputs (truncated JPEG and PNG, bad CRC, corrupt JPEG scan, absurd header
    dimensions, a GIF, a text file);
  * expected.json, the manifest the Swift tests read: for each decodable file its size, expected
    bytes file, the reference library and the largest per-byte difference allowed.

References: Pillow's `Image.open(p).convert("RGB")`, except for 16-bit grayscale where Pillow
clamps values above 255 to white instead of scaling; that one uses OpenCV's `cv2.imread` (which,
like our decoder and like Pillow for 16-bit RGB, keeps the high byte). The script asserts that the
references agree with each other where they should, so a change in either library shows up here.

Pillow cannot write 16-bit RGB or interlaced PNGs, so those are assembled by `write_png` below from
raw chunks (zlib + CRC from the standard library).

Rerun (from the repository root, deterministic output):
    .venv/bin/python Scripts/make_decode_fixtures.py
"""

import json
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent.parent / "Tests" / "ImageTests" / "Fixtures" / "decode"

# Adam7 passes as (x start, y start, x step, y step), from the PNG specification.
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def test_pattern(width, height, channels, seed):
    """Gradients plus a little noise and one sharp edge, so JPEG subsampling and PNG filters both
    have something to do. Deterministic (legacy RandomState is stable across numpy versions)."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = []
    for c in range(channels):
        gradient = (x * (200 // max(width - 1, 1)) + y * (150 // max(height - 1, 1)) + 60 * c) % 256
        edge = np.where(x > width // 2, 70 * (c + 1), 0)
        noise = rng.randint(0, 24, size=(height, width))
        planes.append((gradient + edge + noise) % 256)
    return np.stack(planes, axis=-1).astype(np.uint8)


def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def write_png(path, samples, bit_depth, color_type, interlaced):
    """samples: (height, width, channels) array of uint8 or uint16 matching bit_depth."""
    height, width = samples.shape[:2]
    dtype = ">u2" if bit_depth == 16 else "u1"
    passes = ADAM7 if interlaced else [(0, 0, 1, 1)]
    raw = bytearray()
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue  # empty passes contribute no bytes at all, not even filter bytes
        for row in sub:
            raw.append(0)  # filter type None
            raw += row.astype(dtype).tobytes()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlaced else 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    data += chunk(b"IEND", b"")
    path.write_bytes(data)


def pillow_rgb(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def opencv_rgb(path):
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def save_pillow(image, name, **options):
    image.save(OUT / name, **options)


def make_decodable():
    """Returns manifest entries [(file, reference array, reference name, tolerance)]."""
    entries = []

    def add(name, reference, source, tolerance=0):
        entries.append((name, reference, source, tolerance))

    rgb = test_pattern(16, 9, 3, seed=1)
    save_pillow(Image.fromarray(rgb), "rgb.png")
    add("rgb.png", pillow_rgb(OUT / "rgb.png"), "Pillow")
    assert (pillow_rgb(OUT / "rgb.png") == rgb).all()

    gray = test_pattern(16, 9, 1, seed=2)[:, :, 0]
    save_pillow(Image.fromarray(gray), "gray.png")
    add("gray.png", pillow_rgb(OUT / "gray.png"), "Pillow")

    bilevel = Image.fromarray(gray).point(lambda v: 255 if v > 128 else 0).convert("1")
    save_pillow(bilevel.crop((0, 0, 7, 5)), "gray_1bit.png")
    add("gray_1bit.png", pillow_rgb(OUT / "gray_1bit.png"), "Pillow")

    palette = Image.fromarray(rgb).quantize(colors=6)
    save_pillow(palette, "palette_trns.png", transparency=2)
    with Image.open(OUT / "palette_trns.png") as check:
        assert check.mode == "P" and "transparency" in check.info
    add("palette_trns.png", pillow_rgb(OUT / "palette_trns.png"), "Pillow")

    rgba = np.dstack([rgb, test_pattern(16, 9, 1, seed=3)])
    save_pillow(Image.fromarray(rgba), "rgba.png")
    add("rgba.png", pillow_rgb(OUT / "rgba.png"), "Pillow")

    gray_alpha = np.dstack([gray, test_pattern(16, 9, 1, seed=4)[:, :, 0]])
    save_pillow(Image.merge("LA", [Image.fromarray(gray_alpha[:, :, 0]), Image.fromarray(gray_alpha[:, :, 1])]),
                "gray_alpha.png")
    add("gray_alpha.png", pillow_rgb(OUT / "gray_alpha.png"), "Pillow")

    # 16-bit: high and low bytes differ, so keeping the wrong byte (or rounding) is visible.
    rgb16 = rgb.astype(np.uint16) * 257 + np.uint16(91)
    write_png(OUT / "rgb_16bit.png", rgb16, 16, 2, interlaced=False)
    expected = (rgb16 >> 8).astype(np.uint8)
    assert (pillow_rgb(OUT / "rgb_16bit.png") == expected).all()
    assert (opencv_rgb(OUT / "rgb_16bit.png") == expected).all()
    add("rgb_16bit.png", pillow_rgb(OUT / "rgb_16bit.png"), "Pillow")

    gray16 = gray.astype(np.uint16)[:, :, None] * 257 + np.uint16(200)
    write_png(OUT / "gray_16bit.png", gray16, 16, 0, interlaced=False)
    expected = np.repeat((gray16 >> 8).astype(np.uint8), 3, axis=2)
    assert (opencv_rgb(OUT / "gray_16bit.png") == expected).all()
    add("gray_16bit.png", opencv_rgb(OUT / "gray_16bit.png"), "OpenCV (Pillow clamps 16-bit gray)")

    # Odd size: several Adam7 passes are partial, the first ones nearly empty.
    interlaced = test_pattern(11, 7, 3, seed=5)
    write_png(OUT / "interlaced.png", interlaced, 8, 2, interlaced=True)
    with Image.open(OUT / "interlaced.png") as check:
        assert check.info.get("interlace") == 1
    assert (pillow_rgb(OUT / "interlaced.png") == interlaced).all()
    add("interlaced.png", pillow_rgb(OUT / "interlaced.png"), "Pillow")

    # JPEG at an odd size so the chroma upsampling edge cases are exercised.
    photo = Image.fromarray(test_pattern(17, 11, 3, seed=6))
    save_pillow(photo, "baseline.jpg", quality=95)
    add("baseline.jpg", pillow_rgb(OUT / "baseline.jpg"), "Pillow")

    save_pillow(photo.convert("L"), "gray.jpg", quality=95)
    add("gray.jpg", pillow_rgb(OUT / "gray.jpg"), "Pillow")

    save_pillow(photo, "progressive.jpg", quality=95, progressive=True)
    with Image.open(OUT / "progressive.jpg") as check:
        assert check.info.get("progressive") == 1
    add("progressive.jpg", pillow_rgb(OUT / "progressive.jpg"), "Pillow")

    # Pillow writes CMYK JPEGs the way Photoshop does (Adobe marker, inverted samples), and its
    # CMYK->RGB conversion, round((255-C)(255-K)/255), was checked equal to ours for all C, K.
    cmyk = Image.frombytes("CMYK", (17, 11), test_pattern(17, 11, 4, seed=7).tobytes())
    save_pillow(cmyk, "cmyk_adobe.jpg", quality=95)
    add("cmyk_adobe.jpg", pillow_rgb(OUT / "cmyk_adobe.jpg"), "Pillow")

    # Content decides, not the name.
    (OUT / "png_named.jpg").write_bytes((OUT / "rgb.png").read_bytes())
    add("png_named.jpg", pillow_rgb(OUT / "png_named.jpg"), "Pillow")
    return entries


def scan_start(jpeg):
    """Offset of the first byte after the SOS segment, where entropy-coded data begins."""
    sos = jpeg.index(b"\xff\xda")
    return sos + 2 + struct.unpack(">H", jpeg[sos + 2:sos + 4])[0]


def make_broken():
    jpeg = (OUT / "baseline.jpg").read_bytes()
    start = scan_start(jpeg)
    # Cut in the middle of the entropy-coded data: libjpeg would warn and fill the rest with grey.
    (OUT / "truncated.jpg").write_bytes(jpeg[: start + (len(jpeg) - start) // 2])

    # An EOI marker in the middle of the scan: the Huffman decoder runs into it early.
    middle = start + (len(jpeg) - start) // 2
    (OUT / "corrupt_scan.jpg").write_bytes(jpeg[:middle] + b"\xff\xd9" + jpeg[middle + 2:])

    # SOF0 claims 30000 x 30000 (900 M pixels, over the 89.5 M limit); everything else is intact.
    sof = jpeg.index(b"\xff\xc0")
    huge = bytearray(jpeg)
    huge[sof + 5:sof + 9] = struct.pack(">HH", 30000, 30000)
    (OUT / "too_large.jpg").write_bytes(bytes(huge))

    png = (OUT / "rgb.png").read_bytes()
    (OUT / "truncated.png").write_bytes(png[: len(png) // 2])

    # One compressed IDAT byte flipped: breaks both the image data and the chunk CRC (libpng
    # notices whichever it checks first; either way the file is corrupt).
    idat = png.index(b"IDAT") + 4
    broken = bytearray(png)
    broken[idat + 3] ^= 0x01
    (OUT / "corrupt_idat.png").write_bytes(bytes(broken))

    # IHDR claims 70000 x 2 (wider than 65535), valid CRCs. The IDAT only has to exist (libpng reads
    # the header chunks up to the first IDAT); the decoder must refuse before looking inside.
    header = struct.pack(">IIBBBBB", 70000, 2, 8, 2, 0, 0, 0)
    (OUT / "too_wide.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                                       + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))

    Image.fromarray(test_pattern(8, 8, 3, seed=8)).convert("P").save(OUT / "tiny.gif")
    (OUT / "not_an_image.txt").write_text("This is a text file, not a photo.\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    manifest = []
    for name, reference, source, tolerance in make_decodable():
        height, width = reference.shape[:2]
        assert reference.shape == (height, width, 3) and reference.dtype == np.uint8
        (OUT / (name + ".rgb")).write_bytes(reference.tobytes())
        manifest.append({"file": name, "width": width, "height": height, "expectedRGB": name + ".rgb",
                         "reference": source, "maxAbsDifference": tolerance})
    make_broken()
    (OUT / "expected.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
