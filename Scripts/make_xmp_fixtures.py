#!/usr/bin/env python3
"""Make the fixtures for Tests/ImageTests/XMPOrientationTests.swift: small JPEG and PNG files whose
orientation is kept (also, or only) in an XMP packet as tiff:Orientation.

Writes into Tests/ImageTests/Fixtures/xmp/ the images, `<name>.rgb` (Pillow's
`ImageOps.exif_transpose(Image.open(p)).convert("RGB")`, the upright picture), `<name>.stored.rgb`
(Pillow's `Image.open(p).convert("RGB")`, the pixels as stored) and expected.json with, for each
file, the upright size and Pillow's `getexif().get(Orientation)` (the value it found, before
deciding whether it is one of the eight); and packets.json, hand-written XMP snippets (attribute and
element forms, whitespace, quotes, prefixes, garbage, truncation) with the value Pillow reads from
each. Every expectation is Pillow's, never our decoder's.

Pillow (PIL/Image.py getexif) reads XMP only when the EXIF block has no Orientation tag, and takes
the first match of `tiff:Orientation(="|>)([0-9])` in the packet: JPEG APP1 after
"http://ns.adobe.com/xap/1.0/\\0", PNG iTXt "XML:com.adobe.xmp" (zlib-compressed or not).

Rerun (from the repository root, deterministic output; needs Pillow >= 11 for `save(xmp=...)`):
    python3 -m venv /tmp/xmpvenv && /tmp/xmpvenv/bin/pip install pillow numpy
    /tmp/xmpvenv/bin/python Scripts/make_xmp_fixtures.py
"""

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin

OUT = Path(__file__).resolve().parent.parent / "Tests" / "ImageTests" / "Fixtures" / "xmp"
ORIENTATION_TAG = 0x0112
XMP_KEYWORD = "XML:com.adobe.xmp"
MAX_TEXT_CHUNK = PngImagePlugin.MAX_TEXT_CHUNK  # 1 MiB, Pillow's cap on an inflated text chunk


def pattern(width, height, seed):
    """Noise over a gradient: every turn and mirror of it is a different picture."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = [(x * 23 + y * 41 + 80 * c + rng.randint(0, 40, size=(height, width))) % 256 for c in range(3)]
    return np.stack(planes, axis=-1).astype(np.uint8)


def xmp_packet(description):
    """A packet as ExifTool and Photoshop lay it out; `description` goes inside rdf:Description."""
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
            f'  {description}\n'
            ' </rdf:RDF>\n'
            '</x:xmpmeta>\n'
            '<?xpacket end="w"?>').encode("utf-8")


def attribute_form(value):
    return xmp_packet('<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/"'
                      f' tiff:Orientation="{value}"/>')


def element_form(value):
    return xmp_packet('<rdf:Description rdf:about="" xmlns:tiff="http://ns.adobe.com/tiff/1.0/">'
                      f'<tiff:Orientation>{value}</tiff:Orientation></rdf:Description>')


def exif_with_orientation(value):
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = value
    return exif.tobytes()


def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def itxt(packet, compressed):
    """iTXt payload: keyword, NUL, compression flag and method, language, NUL, translated keyword, NUL, text."""
    text = zlib.compress(packet, 9) if compressed else packet
    return XMP_KEYWORD.encode("latin-1") + b"\0" + bytes([1 if compressed else 0, 0]) + b"\0\0" + text


def png_with_chunk_before_iend(stored, kind, payload):
    """A plain PNG with one more chunk just before IEND, i.e. after the image data."""
    plain = io.BytesIO()
    Image.fromarray(stored).save(plain, format="PNG")
    data = plain.getvalue()
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + chunk(kind, payload) + data[iend:]


def make_files(stored):
    """Writes the images; returns their names in manifest order."""
    names = []

    def jpeg(name, **options):
        Image.fromarray(stored).save(OUT / name, quality=95, **options)
        names.append(name)

    def png(name, **options):
        Image.fromarray(stored).save(OUT / name, **options)
        names.append(name)

    jpeg("xmp_attribute_6.jpg", xmp=attribute_form(6))
    jpeg("xmp_element_8.jpg", xmp=element_form(8))
    jpeg("xmp_attribute_3.jpg", xmp=attribute_form(3))
    # EXIF says upright, XMP says turn: Pillow never looks at XMP when EXIF has the tag.
    jpeg("exif_1_xmp_6.jpg", exif=exif_with_orientation(1), xmp=attribute_form(6))
    # An EXIF tag that is out of range still hides the XMP value from Pillow.
    jpeg("exif_9_xmp_6.jpg", exif=exif_with_orientation(9), xmp=attribute_form(6))
    jpeg("xmp_9.jpg", xmp=attribute_form(9))
    # An EXIF block without the Orientation tag: XMP is read.
    no_orientation = Image.Exif()
    no_orientation[0x010F] = "ShuffleNet test"  # Make
    jpeg("exif_without_tag_xmp_5.jpg", exif=no_orientation.tobytes(), xmp=element_form(5))

    for value, compressed in ((6, False), (7, True)):
        info = PngImagePlugin.PngInfo()
        info.add_itxt(XMP_KEYWORD, attribute_form(value).decode("utf-8"), zip=compressed)
        png(f"xmp_itxt{'_compressed' if compressed else ''}_{value}.png", pnginfo=info)
    (OUT / "xmp_itxt_after_idat_8.png").write_bytes(
        png_with_chunk_before_iend(stored, b"iTXt", itxt(element_form(8), compressed=True)))
    names.append("xmp_itxt_after_idat_8.png")

    # Two XMP segments: each replaces the previous one in Pillow's info["xmp"], so the last counts.
    plain = io.BytesIO()
    Image.fromarray(stored).save(plain, format="JPEG", quality=95, xmp=attribute_form(3))
    data = plain.getvalue()
    first = b"http://ns.adobe.com/xap/1.0/\0" + attribute_form(6)
    data = data[:2] + b"\xff\xe1" + struct.pack(">H", len(first) + 2) + first + data[2:]
    (OUT / "xmp_two_segments_3.jpg").write_bytes(data)
    names.append("xmp_two_segments_3.jpg")

    # A compressed iTXt whose zlib data is damaged: Pillow skips the chunk.
    broken = bytearray(itxt(attribute_form(6), compressed=True))
    broken[len(XMP_KEYWORD) + 5 + 2] ^= 0xFF  # the first deflate byte after the 2-byte zlib header
    (OUT / "xmp_itxt_corrupt_zlib.png").write_bytes(png_with_chunk_before_iend(stored, b"iTXt", bytes(broken)))
    names.append("xmp_itxt_corrupt_zlib.png")

    # Inflates to one byte under Pillow's 1 MiB cap with the orientation at the very end: read.
    suffix = b'tiff:Orientation="4"</x>'
    packet = b"<x>" + b" " * (MAX_TEXT_CHUNK - 1 - 3 - len(suffix)) + suffix
    assert len(packet) == MAX_TEXT_CHUNK - 1
    (OUT / "xmp_itxt_large_4.png").write_bytes(png_with_chunk_before_iend(stored, b"iTXt", itxt(packet, True)))
    names.append("xmp_itxt_large_4.png")
    return names


def make_refused_by_pillow(stored):
    """A compressed XMP iTXt that inflates past 1 MiB, orientation first. Pillow refuses the whole
    file (ValueError); the Swift decoder ignores that chunk only, and the tests expect the stored
    pixels, which are those of every other PNG here."""
    packet = b'<x>tiff:Orientation="6"' + b" " * MAX_TEXT_CHUNK + b"</x>"
    name = "xmp_itxt_over_1mib.png"
    (OUT / name).write_bytes(png_with_chunk_before_iend(stored, b"iTXt", itxt(packet, True)))
    try:
        with Image.open(OUT / name) as check:
            check.load()
        raise AssertionError("Pillow was expected to refuse " + name)
    except ValueError as error:
        assert "MAX_TEXT_CHUNK" in str(error), error


# Hand-written packets for the parser tests, wrapped by the Swift tests in a JPEG APP1 segment and in
# a PNG iTXt chunk. The expected value is what Pillow's getexif finds in each (checked here for both
# containers), not what our parser says.
PACKETS = {
    "attribute": 'tiff:Orientation="6"',
    "element": "<tiff:Orientation>8</tiff:Orientation>",
    "inside a full packet": attribute_form(5).decode("utf-8"),
    "element inside a full packet": element_form(2).decode("utf-8"),
    "space before equals": 'tiff:Orientation ="6"',
    "space after equals": 'tiff:Orientation= "6"',
    "newline before the value": 'tiff:Orientation=\n"6"',
    "space inside the element": "<tiff:Orientation> 6 </tiff:Orientation>",
    "newline inside the element": "<tiff:Orientation>\n6\n</tiff:Orientation>",
    "single quotes": "tiff:Orientation='6'",
    "unquoted": "tiff:Orientation=6",
    "exif prefix": 'exif:Orientation="6"',
    "other prefix bound to the tiff namespace": '<rdf:Description xmlns:t="http://ns.adobe.com/tiff/1.0/" t:Orientation="6"/>',
    "lower case": 'tiff:orientation="6"',
    "two digits": 'tiff:Orientation="10"',
    "zero": 'tiff:Orientation="0"',
    "nine": 'tiff:Orientation="9"',
    "first match decides even when out of range": 'tiff:Orientation="9" <tiff:Orientation>6</tiff:Orientation>',
    "element before attribute": '<tiff:Orientation>3</tiff:Orientation> tiff:Orientation="6"',
    "attribute before element": 'tiff:Orientation="4" <tiff:Orientation>6</tiff:Orientation>',
    "a non-matching mention then a match": 'tiff:Orientation=\'6\' tiff:Orientation="7"',
    "longer prefix still matches": 'mytiff:Orientation="6"',
    "closing tag followed by a digit": "<tiff:Orientation>x</tiff:Orientation>5",
    "truncated after the name": "<x>tiff:Orientation",
    "truncated after equals": "<x>tiff:Orientation=",
    "truncated after the quote": '<x>tiff:Orientation="',
    "truncated after the bracket": "<x>tiff:Orientation>",
    "garbage": "\u00ff\u00fe<<<>>>==\"\"tiff:Orient tiff:Orientatio=\"6\" \u2603",
    "empty": "",
}


def pillow_orientation_of_packet(packet):
    """Pillow's getexif Orientation for a 2 x 1 image carrying only this XMP packet, as JPEG and PNG."""
    image = Image.new("RGB", (2, 1))
    values = []
    jpeg = io.BytesIO()
    image.save(jpeg, format="JPEG", xmp=packet)
    png = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_itxt(XMP_KEYWORD, packet.decode("utf-8"), zip=False)
    image.save(png, format="PNG", pnginfo=info)
    for data in (jpeg, png):
        data.seek(0)
        with Image.open(data) as check:
            check.load()
            values.append(check.getexif().get(ORIENTATION_TAG))
    assert values[0] == values[1], values
    return values[0]


def make_packets():
    return [{"name": name, "packet": text, "pillowOrientation": pillow_orientation_of_packet(text.encode("utf-8"))}
            for name, text in PACKETS.items()]


def pillow_rgb(path, upright):
    with Image.open(path) as image:
        if upright:
            image = ImageOps.exif_transpose(image)
        return np.asarray(image.convert("RGB"))


def pillow_orientation(path):
    with Image.open(path) as image:
        image.load()  # PNG chunks after the image data are read on load
        return image.getexif().get(ORIENTATION_TAG)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    # 9 x 5: not square, so orientations 5-8 swap width and height.
    stored = pattern(9, 5, seed=21)
    manifest = []
    for name in make_files(stored):
        upright = pillow_rgb(OUT / name, upright=True)
        as_stored = pillow_rgb(OUT / name, upright=False)
        (OUT / (name + ".rgb")).write_bytes(upright.tobytes())
        (OUT / (name + ".stored.rgb")).write_bytes(as_stored.tobytes())
        height, width = upright.shape[:2]
        manifest.append({"file": name, "width": width, "height": height, "expectedRGB": name + ".rgb",
                         "storedRGB": name + ".stored.rgb", "pillowOrientation": pillow_orientation(OUT / name),
                         "reference": "Pillow exif_transpose", "maxAbsDifference": 0})
    make_refused_by_pillow(stored)
    (OUT / "expected.json").write_text(json.dumps(manifest, indent=1) + "\n")
    packets = make_packets()
    (OUT / "packets.json").write_text(json.dumps(packets, indent=1, ensure_ascii=False) + "\n")
    for entry in packets:
        print(f"packet {entry['name']!r}: Pillow orientation {entry['pillowOrientation']}")
    for entry in manifest:
        print(f"{entry['file']:32} Pillow orientation {entry['pillowOrientation']}, upright {entry['width']}x{entry['height']}")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
