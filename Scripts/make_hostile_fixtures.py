#!/usr/bin/env python3
"""Make the fixtures for Tests/ImageTests/Hostile*.swift and Exif*.swift: unusual encodings that must
decode, EXIF orientations that must come out upright, and files that must be refused.

Writes into Tests/ImageTests/Fixtures/hostile/:
  * progressive_256x256.jpg, for the decoder-memory cap (only its size is checked);
  * decodable files, each with `<name>.rgb` (expected 8-bit RGB, row-major) from an independent
    decoder, listed in decodable.json with size, reference and tolerance:
      - JPEGs from libjpeg-turbo's cjpeg (apt: libjpeg-turbo-progs): arithmetic coding, restart
        intervals (every MCU row and every block), arithmetic + progressive, and each chroma
        subsampling (4:4:4, 4:2:2, 4:4:0, 4:1:1, 4:2:0); reference Pillow (its own bundled
        libjpeg-turbo), checked against djpeg (the system library's tool);
      - EXIF orientation 1..8 in JPEG APP1 (little-endian, as Pillow writes it) and PNG eXIf, a
        big-endian ("MM") JPEG and a PNG whose eXIf follows the image data; reference
        `ImageOps.exif_transpose(image).convert("RGB")`, i.e. what a person sees upright;
      - a PNG whose ancillary tEXt chunk has a bad CRC (libpng skips the chunk; pixels intact);
      - an Adobe YCCK JPEG (written by a few lines of C against the system libjpeg, as neither Pillow
        nor cjpeg writes YCCK); reference Pillow;
      - a JPEG named .png (content decides);
  * refused files, listed in refused.json with the expected error kind and a message fragment:
    12-bit and lossless JPEGs (made by patching a baseline file's frame header, since this
    libjpeg-turbo build, like the one Pillow would need, has no 12-bit/lossless cjpeg), CRC errors
    in each critical PNG chunk, decompression bombs (headers claiming 4 G and 400 M pixels, and a
    81 M-pixel progressive JPEG whose data stops after a few bytes), and files that are not JPEG or
    PNG whatever their name (GIF, BMP, TIFF, WebP, HEIC, text, empty);
  * preview_exif6.jpg and preview_exif6.crop_blocks8.rgb: a photo-sized JPEG stored sideways with
    EXIF orientation 6, and the 224x224 crop Megvii's pipeline sees, from OpenCV (`cv2.imread`
    applies EXIF orientation, then INTER_LINEAR resize of the short side to 256 and a centre crop),
    stored as the means of its 8x8 blocks (28x28 RGB, rounded);
  * sixteen_bit_evidence.json: why 16-bit PNG samples keep the high byte (see `sixteen_bit_evidence`).

Rerun (from the repository root, deterministic output):
    .venv/bin/python Scripts/make_hostile_fixtures.py
"""

import io
import json
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

OUT = Path(__file__).resolve().parent.parent / "Tests" / "ImageTests" / "Fixtures" / "hostile"
ORIENTATION_TAG = 0x0112


def pattern(width, height, seed):
    """Smooth gradients, a sharp edge and a little noise; asymmetric so every flip is visible."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = []
    for c in range(3):
        plane = x * (180 // max(width - 1, 1)) + y * (120 // max(height - 1, 1)) + 50 * c
        plane = plane + np.where((x < width // 3) & (y < height // 2), 90, 0) + rng.randint(0, 12, (height, width))
        planes.append(plane % 256)
    return np.stack(planes, axis=-1).astype(np.uint8)


def chunk(kind, payload, crc=None):
    crc = zlib.crc32(kind + payload) if crc is None else crc
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_chunks(data):
    """[(type, payload)] of a PNG file."""
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        chunks.append((kind, data[offset + 8:offset + 8 + length]))
        offset += 12 + length
    return chunks


def assemble_png(chunks, broken=None):
    """PNG from [(type, payload)]; the chunk whose type is `broken` gets a wrong CRC."""
    out = b"\x89PNG\r\n\x1a\n"
    for kind, payload in chunks:
        crc = (zlib.crc32(kind + payload) ^ 0xFFFF) if kind == broken else None
        out += chunk(kind, payload, crc)
    return out


def pillow_rgb(path, upright=False):
    with Image.open(path) as image:
        if upright:
            image = ImageOps.exif_transpose(image)
        return np.asarray(image.convert("RGB"))


def djpeg_rgb(path):
    """The system libjpeg-turbo's own decoder (PPM out) as a second opinion on Pillow."""
    ppm = subprocess.run(["djpeg", "-ppm", str(path)], capture_output=True, check=True).stdout
    with Image.open(io.BytesIO(ppm)) as image:
        return np.asarray(image.convert("RGB"))


def cjpeg(array, *switches):
    ppm = io.BytesIO()
    Image.fromarray(array).save(ppm, format="PPM")
    return subprocess.run(["cjpeg", "-quality", "90", *switches], input=ppm.getvalue(),
                          capture_output=True, check=True).stdout


# Neither Pillow nor cjpeg can write YCCK, so a few lines of C against the system libjpeg do: CMYK
# samples in, Adobe YCCK JPEG out (jpeg_set_colorspace writes the Adobe marker, transform 2).
YCCK_WRITER_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>
int main(int argc, char **argv) {
    int width = atoi(argv[1]), height = atoi(argv[2]);
    unsigned char *cmyk = malloc((size_t)width * height * 4);
    if (fread(cmyk, 4, (size_t)width * height, stdin) != (size_t)width * height) return 1;
    struct jpeg_compress_struct info; struct jpeg_error_mgr errors;
    info.err = jpeg_std_error(&errors);
    jpeg_create_compress(&info);
    jpeg_stdio_dest(&info, stdout);
    info.image_width = width; info.image_height = height;
    info.input_components = 4; info.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&info);
    jpeg_set_colorspace(&info, JCS_YCCK);
    jpeg_set_quality(&info, 95, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = cmyk + (size_t)info.next_scanline * width * 4;
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    return 0;
}
"""


def ycck_jpeg(cmyk):
    """Adobe YCCK JPEG of an (h, w, 4) uint8 array of inverted CMYK (Photoshop's convention)."""
    height, width = cmyk.shape[:2]
    with tempfile.TemporaryDirectory() as work:
        source, program = Path(work) / "ycck.c", Path(work) / "ycck"
        source.write_text(YCCK_WRITER_C)
        subprocess.run(["cc", "-O1", str(source), "-ljpeg", "-o", str(program)], check=True)
        return subprocess.run([str(program), str(width), str(height)], input=cmyk.tobytes(),
                              capture_output=True, check=True).stdout


def exif_with_orientation(value):
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = value
    return exif.tobytes()


def big_endian_exif(value):
    """Minimal EXIF in Motorola byte order: header, IFD0 with one SHORT entry, no next IFD."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", ORIENTATION_TAG, 3, 1, value, 0) + struct.pack(">I", 0)
    return b"Exif\x00\x00" + tiff


def insert_app1(jpeg, exif):
    """JPEG with an APP1 EXIF segment right after SOI."""
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + jpeg[2:]


class Fixtures:
    def __init__(self):
        self.decodable = []
        self.refused = []

    def write(self, name, data):
        (OUT / name).write_bytes(data)

    def expect_pixels(self, name, reference, source, tolerance=0):
        assert reference.dtype == np.uint8 and reference.shape[2] == 3
        (OUT / (name + ".rgb")).write_bytes(reference.tobytes())
        height, width = reference.shape[:2]
        self.decodable.append({"file": name, "width": width, "height": height, "expectedRGB": name + ".rgb",
                               "reference": source, "maxAbsDifference": tolerance})

    def expect_refusal(self, name, kind, message_part):
        self.refused.append({"file": name, "kind": kind, "messagePart": message_part})


def jpeg_variants(fx):
    photo = pattern(21, 13, seed=11)
    variants = {
        "arithmetic.jpg": ["-arithmetic"],
        "restart_rows.jpg": ["-restart", "1"],
        "restart_blocks.jpg": ["-restart", "1B"],
        "arithmetic_progressive.jpg": ["-arithmetic", "-progressive", "-restart", "1"],
        "sampling_444.jpg": ["-sample", "1x1"],
        "sampling_422.jpg": ["-sample", "2x1"],
        "sampling_440.jpg": ["-sample", "1x2"],
        "sampling_411.jpg": ["-sample", "4x1"],
        "sampling_420.jpg": ["-sample", "2x2"],
    }
    for name, switches in variants.items():
        fx.write(name, cjpeg(photo, *switches))
        reference = pillow_rgb(OUT / name)
        # Pillow bundles a newer libjpeg-turbo than the system's; where they disagree, the test
        # allows the larger of their differences (so far they agree exactly).
        tolerance = int(np.abs(reference.astype(int) - djpeg_rgb(OUT / name).astype(int)).max())
        fx.expect_pixels(name, reference, "Pillow (djpeg within %d)" % tolerance, tolerance)

    ycck = np.dstack([pattern(21, 13, seed=19), pattern(21, 13, seed=20)[:, :, :1]])
    fx.write("ycck_adobe.jpg", ycck_jpeg(ycck))
    with Image.open(OUT / "ycck_adobe.jpg") as check:
        assert check.mode == "CMYK" and check.info.get("adobe_transform") == 2, (check.mode, check.info)
    fx.expect_pixels("ycck_adobe.jpg", pillow_rgb(OUT / "ycck_adobe.jpg"), "Pillow")

    # For the decoder-memory cap: big enough that its coefficient buffers (192 KiB) exceed a small
    # cap, smooth so the file stays small. Only its size is checked, so no .rgb is stored.
    y, x = np.mgrid[0:256, 0:256]
    smooth = np.stack([x, y, (x + y) // 2], axis=-1).astype(np.uint8)
    fx.write("progressive_256x256.jpg", cjpeg(smooth, "-progressive", "-sample", "2x2"))

    jpeg = cjpeg(photo)
    fx.write("jpeg_named.png", jpeg)
    fx.expect_pixels("jpeg_named.png", pillow_rgb(OUT / "jpeg_named.png"), "Pillow")


def exif_orientations(fx):
    # 9 x 5: not square, so orientations 5-8 must swap the dimensions.
    stored = pattern(9, 5, seed=12)
    for value in range(1, 9):
        name = f"exif_{value}.jpg"
        Image.fromarray(stored).save(OUT / name, quality=95, exif=exif_with_orientation(value))
        with Image.open(OUT / name) as check:
            assert check.getexif().get(ORIENTATION_TAG) == value
        fx.expect_pixels(name, pillow_rgb(OUT / name, upright=True), "Pillow exif_transpose")

        name = f"exif_{value}.png"
        Image.fromarray(stored).save(OUT / name, exif=exif_with_orientation(value))
        assert any(kind == b"eXIf" for kind, _ in png_chunks((OUT / name).read_bytes()))
        fx.expect_pixels(name, pillow_rgb(OUT / name, upright=True), "Pillow exif_transpose")

    plain = io.BytesIO()
    Image.fromarray(stored).save(plain, format="JPEG", quality=95)
    fx.write("exif_6_big_endian.jpg", insert_app1(plain.getvalue(), big_endian_exif(6)))
    fx.expect_pixels("exif_6_big_endian.jpg", pillow_rgb(OUT / "exif_6_big_endian.jpg", upright=True),
                     "Pillow exif_transpose")

    # eXIf after IDAT is allowed by the PNG extensions spec; Pillow finds it when loading.
    plain_png = io.BytesIO()
    Image.fromarray(stored).save(plain_png, format="PNG")
    chunks = png_chunks(plain_png.getvalue())
    tiff = exif_with_orientation(8)
    tiff = tiff[6:] if tiff.startswith(b"Exif\x00\x00") else tiff
    chunks.insert(len(chunks) - 1, (b"eXIf", tiff))
    fx.write("exif_8_after_idat.png", assemble_png(chunks))
    fx.expect_pixels("exif_8_after_idat.png", pillow_rgb(OUT / "exif_8_after_idat.png", upright=True),
                     "Pillow exif_transpose")


def png_crc_cases(fx):
    rgb = pattern(8, 6, seed=13)
    clean = io.BytesIO()
    Image.fromarray(rgb).save(clean, format="PNG")
    chunks = png_chunks(clean.getvalue())
    chunks.insert(1, (b"tEXt", b"Comment\x00ancillary chunk with a bad CRC"))
    fx.write("ancillary_crc.png", assemble_png(chunks, broken=b"tEXt"))
    fx.expect_pixels("ancillary_crc.png", rgb, "the pixels written (libpng skips the damaged tEXt)")

    chunks = png_chunks(clean.getvalue())
    for kind in (b"IHDR", b"IDAT", b"IEND"):
        name = f"crc_{kind.decode().lower()}.png"
        fx.write(name, assemble_png(chunks, broken=kind))
        fx.expect_refusal(name, "corrupt", "CRC error")

    palette = io.BytesIO()
    Image.fromarray(rgb).quantize(colors=4).save(palette, format="PNG")
    fx.write("crc_plte.png", assemble_png(png_chunks(palette.getvalue()), broken=b"PLTE"))
    fx.expect_refusal("crc_plte.png", "corrupt", "CRC error")


def frame_header_offset(jpeg, marker):
    return jpeg.index(b"\xff" + bytes([marker]))


def unsupported_jpegs(fx):
    baseline = cjpeg(pattern(16, 8, seed=14))
    sof = frame_header_offset(baseline, 0xC0)
    twelve = bytearray(baseline)
    twelve[sof + 1] = 0xC1  # extended sequential, which allows 12-bit samples
    twelve[sof + 4] = 12
    fx.write("precision_12bit.jpg", bytes(twelve))
    fx.expect_refusal("precision_12bit.jpg", "unsupportedFormat", "precision 12")

    lossless = bytearray(baseline)
    lossless[sof + 1] = 0xC3
    fx.write("lossless.jpg", bytes(lossless))
    fx.expect_refusal("lossless.jpg", "unsupportedFormat", "SOF type 0xc3")


def bombs(fx):
    small = cjpeg(pattern(16, 16, seed=15))
    sof = frame_header_offset(small, 0xC0)
    huge = bytearray(small)
    huge[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
    fx.write("bomb_65000x65000.jpg", bytes(huge))
    fx.expect_refusal("bomb_65000x65000.jpg", "tooLarge", "65000 x 65000")

    # Under the pixel limit, but 9000 x 9000 progressive needs 243 MB of coefficient buffers, which its
    # few hundred bytes cannot fill: refused from the header as a decompression bomb, before allocating.
    progressive = cjpeg(pattern(16, 16, seed=16), "-progressive")
    sof = frame_header_offset(progressive, 0xC2)
    cut = bytearray(progressive)
    cut[sof + 5:sof + 9] = struct.pack(">HH", 9000, 9000)
    fx.write("bomb_progressive_9000.jpg", bytes(cut))
    fx.expect_refusal("bomb_progressive_9000.jpg", "tooLarge", "decompression bomb")

    # 20000 x 20000 RGB: 1.2 GB once decoded, from a 100-byte file.
    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 60001 * 4, 9)
    fx.write("bomb_20000x20000.png", assemble_png([(b"IHDR", header), (b"IDAT", rows), (b"IEND", b"")]))
    fx.expect_refusal("bomb_20000x20000.png", "tooLarge", "20000 x 20000")

    # 9000 x 9000 is under the limit; the IDAT inflates to a few rows only.
    header = struct.pack(">IIBBBBB", 9000, 9000, 8, 0, 0, 0, 0)
    fx.write("bomb_short_idat.png", assemble_png([(b"IHDR", header), (b"IDAT", zlib.compress(b"\x00" * 9001 * 3, 9)),
                                                  (b"IEND", b"")]))
    fx.expect_refusal("bomb_short_idat.png", "corrupt", "PNG data")


def foreign_formats(fx):
    image = Image.fromarray(pattern(6, 4, seed=17))
    foreign = [("gif_named.jpg", "GIF", {}), ("bmp_named.jpg", "BMP", {}), ("tiff_named.png", "TIFF", {}),
               ("webp_named.jpg", "WEBP", {"lossless": True})]
    for name, pillow_format, options in foreign:
        buffer = io.BytesIO()
        image.save(buffer, format=pillow_format, **options)
        fx.write(name, buffer.getvalue())
        fx.expect_refusal(name, "unsupportedFormat", "looks like " + {"WEBP": "WebP"}.get(pillow_format, pillow_format))
    # The first box of a HEIC file (no encoder at hand; the signature is what detection sees).
    fx.write("heic_named.jpg", struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic")
    fx.expect_refusal("heic_named.jpg", "unsupportedFormat", "looks like HEIF")
    fx.write("text_named.png", b"<html><body>not a picture</body></html>\n")
    fx.expect_refusal("text_named.png", "unsupportedFormat", "looks like text")
    fx.write("empty.jpg", b"")
    fx.expect_refusal("empty.jpg", "empty", "empty file")


def megvii_crop(rgb):
    """Megvii's eval geometry (see make_preprocess_fixtures.py): short side to 256 with cv2
    INTER_LINEAR, long side int(256 / short * long + 0.5), centre crop 224 at round((size - 224) / 2)."""
    h, w = rgb.shape[:2]
    rw, rh = (int(256 / h * w + 0.5), 256) if h < w else (256, int(256 / w * h + 0.5))
    resized = cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_LINEAR)
    left, top = int(round((rw - 224) / 2.0)), int(round((rh - 224) / 2.0))
    return resized[top:top + 224, left:left + 224]


def preview_fixture():
    # Stored 240 x 320 (sideways), shown 320 x 240 once turned by orientation 6.
    # Smooth (no noise), so the committed crop PNG stays a few KB.
    y, x = np.mgrid[0:240, 0:320]
    upright = np.stack([x * 255 // 319, y * 255 // 239, np.where((x < 100) & (y < 80), 230, 40)], axis=-1)
    upright = upright.astype(np.uint8)
    stored = np.ascontiguousarray(np.rot90(upright, k=1))  # orientation 6 turns it back clockwise
    Image.fromarray(stored).save(OUT / "preview_exif6.jpg", quality=85, exif=exif_with_orientation(6))
    bgr = cv2.imread(str(OUT / "preview_exif6.jpg"), cv2.IMREAD_COLOR)  # applies EXIF orientation
    assert bgr.shape[:2] == (240, 320), bgr.shape
    crop = megvii_crop(np.ascontiguousarray(bgr[:, :, ::-1]))
    # The full crop does not compress well (JPEG noise); 8x8 block means, rounded, are 2 KB and
    # still show any error in orientation, geometry or colour.
    blocks = crop.reshape(28, 8, 28, 8, 3).mean(axis=(1, 3))
    (OUT / "preview_exif6.crop_blocks8.rgb").write_bytes(np.floor(blocks + 0.5).astype(np.uint8).tobytes())


def sixteen_bit_evidence():
    """16-bit PNG samples to 8 bits: libpng offers png_set_strip_16 (v >> 8) and png_set_scale_16
    (round(v * 255 / 65535)). Pillow (RGB;16B unpacker) and OpenCV (png_set_strip_16) both strip, so
    the decoder strips to match them exactly; both are scalings of the full range (0 -> 0,
    65535 -> 255), unlike Pillow's I;16 -> L conversion of 16-bit gray, which clips at 255. Over all
    65536 values the two differ by at most one level (in 16,256 of them)."""
    values = np.arange(65536)
    strip = values >> 8
    scale = (values * 255 + 32767) // 65535
    difference = np.abs(strip - scale)
    return {"maxDifference": int(difference.max()), "valuesDiffering": int((difference > 0).sum()),
            "pillowAndOpenCV": "strip (high byte)", "chosen": "strip",
            "note": "strip = v >> 8 (Pillow, OpenCV, this decoder); scale = round(v * 255 / 65535) (png_set_scale_16)"}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    fx = Fixtures()
    jpeg_variants(fx)
    exif_orientations(fx)
    png_crc_cases(fx)
    unsupported_jpegs(fx)
    bombs(fx)
    foreign_formats(fx)
    preview_fixture()
    evidence = sixteen_bit_evidence()
    assert evidence["maxDifference"] == 1
    (OUT / "decodable.json").write_text(json.dumps(fx.decodable, indent=1) + "\n")
    (OUT / "refused.json").write_text(json.dumps(fx.refused, indent=1) + "\n")
    (OUT / "sixteen_bit_evidence.json").write_text(json.dumps(evidence, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
