#!/usr/bin/env python3
"""Write a corpus of crafted JPEG and PNG files that attack a decoder's memory, for Scripts/check-memory.

    python Scripts/make_hostile_files.py OUT_DIR

Pillow + the standard library; deterministic (same bytes on every run). Every file is under 100 KB
except the few marked "(over 100 KB)" in OUT_DIR/MANIFEST.tsv, which lists name, bytes and what each file
attacks, one line per file. Files are named .png/.jpg by content so a directory walk picks all of them up.

What is in it:
  PNG  - a chunk declaring 0x7FFFFFF0 or 0xFFFFFFFF bytes, for every chunk type, right after IHDR and
         after IDAT (before IEND);
       - zTXt / iTXt (compressed) / iCCP zlib bombs: 10 MB, 50 MB and (over 100 KB, ~1 MB) 1 GB of zeros,
         and many small bombs in one file; a single-level zlib stream cannot beat deflate's ~1032:1, so
         "1 GB in a few KB" is not possible for a PNG text chunk (libpng inflates once);
       - thousands of tiny tEXt chunks, thousands of small zTXt bombs, many sPLT chunks, one huge sPLT;
       - IDAT bombs: 89 MP gray zeros (~87 KB), 60 MP RGB zeros (over 100 KB, ~175 KB), 65535 x 1365 gray,
         Adam7 9000 x 9000 gray, 16-bit RGBA, 8-bit and 1-bit palette at the pixel limit;
       - declared dimensions 65535 x 65535, 1 x (2^31-1), 0 x 0; truncated files.
  JPEG - SOF claiming 65535 x 65535 (baseline and progressive) with a few bytes of data;
       - progressive with ~5000 scans (repeated DC refinement scans over a 64 x 64 image);
       - progressive 8000 x 8000 (4:2:0) and 9000 x 9000 (4:4:4) whose coefficient buffers are huge
         (a real encode cut at ~90 KB; the full encodes are far over 100 KB);
       - thousands of APP1/COM segments (valid small ones; ones each declaring 64 KB);
       - truncated files; EXIF with absurd IFD entry counts, IFD loops, huge value counts;
       - SOF declaring 255 components, CMYK 9400 x 9400 with tiny data.
"""

import io
import struct
import sys
import zlib
from pathlib import Path

from PIL import Image

LIMIT_PIXELS = 89_478_485  # Pillow's (and shufflenet's default) --max-pixels

# ----------------------------------------------------------------------------------------------- PNG

PNG_SIG = b"\x89PNG\r\n\x1a\n"


def chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def ihdr(w, h, depth=8, ctype=0, interlace=0) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))


IEND = chunk(b"IEND", b"")


def zeros_deflate(total: int, block: int = 1 << 22) -> bytes:
    """zlib stream of `total` zero bytes. Deflate's output for a block of zeros compressed from a fresh state
    and ended with a full flush does not depend on what came before, so it is made once and repeated
    (about 1030:1); the Adler-32 of n zeros is (n mod 65521) << 16 | 1."""
    def raw(n):
        comp = zlib.compressobj(9, zlib.DEFLATED, -15)
        return comp.compress(bytes(n)) + comp.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(total, block)
    piece = raw(block) if full else b""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = comp.compress(bytes(rest)) + comp.flush(zlib.Z_FINISH)
    return b"\x78\xda" + piece * full + tail + struct.pack(">I", ((total % 65521) << 16) | 1)


def small_png(w=64, h=64, ctype=2) -> tuple:
    """(IHDR, IDAT) chunks of a small gradient image; ctype 0 gray or 2 RGB."""
    channels = 3 if ctype == 2 else 1
    rows = []
    for y in range(h):
        row = bytearray([0])
        for x in range(w):
            row += bytes(((x * 4 + c * 40) & 255) ^ (y * 4 & 255) for c in range(channels))
        rows.append(bytes(row))
    return ihdr(w, h, 8, ctype), chunk(b"IDAT", zlib.compress(b"".join(rows), 9))


def huge_chunk(ctype: bytes, length: int) -> bytes:
    # The header claims `length` bytes; the file carries a few hundred and ends.
    return struct.pack(">I", length) + ctype + b"\x00k\x00" + bytes(253)


def zero_image_png(w, h, depth, ctype, bits_per_pixel, interlace=0, extra=b"") -> bytes:
    """A legitimate PNG of an all-zero image (every filter byte 0), IDAT split in 64 KB chunks."""
    if interlace:
        raw = 0
        # Adam7 passes: (x0, y0, dx, dy)
        for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)):
            pw = (w - x0 + dx - 1) // dx
            ph = (h - y0 + dy - 1) // dy
            if pw and ph:
                raw += ph * (1 + (pw * bits_per_pixel + 7) // 8)
    else:
        raw = h * (1 + (w * bits_per_pixel + 7) // 8)
    data = zeros_deflate(raw)
    idats = b"".join(chunk(b"IDAT", data[i:i + 65536]) for i in range(0, len(data), 65536))
    return PNG_SIG + ihdr(w, h, depth, ctype, interlace) + extra + idats + IEND


CHUNK_TYPES = [b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"pCAL", b"sCAL", b"sPLT", b"eXIf", b"PLTE", b"tRNS", b"bKGD",
               b"cHRM", b"gAMA", b"hIST", b"pHYs", b"sBIT", b"sRGB", b"tIME", b"oFFs", b"gIFg", b"sTER", b"vpAg",
               b"caNv", b"prVt", b"IDAT", b"IEND"]


def png_files():
    head, idat = small_png()
    for ctype in CHUNK_TYPES:
        for length, tag in ((0x7FFFFFF0, "7ffffff0"), (0xFFFFFFFF, "ffffffff")):
            name = ctype.decode()
            yield (f"png_len{tag}_{name}_after_IHDR.png", PNG_SIG + head + huge_chunk(ctype, length),
                   f"{name} chunk declaring {length:#x} bytes right after IHDR (file ends)")
            yield (f"png_len{tag}_{name}_after_IDAT.png", PNG_SIG + head + idat + huge_chunk(ctype, length) + IEND,
                   f"{name} chunk declaring {length:#x} bytes after IDAT, before IEND")

    # zlib bombs in ancillary chunks (before IDAT, and one after).
    for mb in (10, 50):
        z = zeros_deflate(mb << 20)
        yield (f"png_zTXt_bomb_{mb}MB.png", PNG_SIG + head + chunk(b"zTXt", b"Comment\x00\x00" + z) + idat + IEND,
               f"zTXt inflating to {mb} MB of zeros")
        yield (f"png_iTXt_bomb_{mb}MB.png",
               PNG_SIG + head + chunk(b"iTXt", b"Comment\x00\x01\x00en\x00Comment\x00" + z) + idat + IEND,
               f"compressed iTXt inflating to {mb} MB of zeros")
        # ICC profile whose header claims the full inflated size (so a length check does not stop it early).
        total = mb << 20
        profile = struct.pack(">I", total) + bytes(total - 4)
        zi = zlib.compress(profile, 9)
        yield (f"png_iCCP_bomb_{mb}MB.png", PNG_SIG + head + chunk(b"iCCP", b"icc\x00\x00" + zi) + idat + IEND,
               f"iCCP profile inflating to {mb} MB (profile header claims {total} bytes)")
        yield (f"png_zTXt_bomb_{mb}MB_after_IDAT.png",
               PNG_SIG + head + idat + chunk(b"zTXt", b"Comment\x00\x00" + z) + IEND,
               f"zTXt after IDAT inflating to {mb} MB of zeros")
    z1g = zeros_deflate(1 << 30)
    yield ("png_zTXt_bomb_1GB.png", PNG_SIG + head + chunk(b"zTXt", b"Comment\x00\x00" + z1g) + idat + IEND,
           "zTXt inflating to 1 GiB of zeros (over 100 KB: deflate tops out at ~1032:1)")
    z5 = zeros_deflate(5 << 20)
    many = b"".join(chunk(b"zTXt", b"k%d\x00\x00" % i + z5) for i in range(18))
    yield ("png_zTXt_bomb_18x5MB.png", PNG_SIG + head + many + idat + IEND,
           "18 zTXt chunks each inflating to 5 MB (90 MB in all)")
    z10k = zeros_deflate(10 << 10)
    many = b"".join(chunk(b"zTXt", b"k\x00\x00" + z10k) for i in range(1800))
    yield ("png_zTXt_1800x10KB.png", PNG_SIG + head + many + idat + IEND,
           "1800 zTXt chunks each inflating to 10 KB (18 MB of text in all)")
    many = b"".join(chunk(b"tEXt", b"k\x00" + b"%02d" % (i % 100)) for i in range(4000))
    yield ("png_tEXt_4000_chunks.png", PNG_SIG + head + many + idat + IEND, "4000 tiny tEXt chunks")
    many = b"".join(chunk(b"tEXt", b"k\x00") for i in range(6000))
    yield ("png_tEXt_6000_empty_after_IDAT.png", PNG_SIG + head + idat + many + IEND,
           "6000 empty-text tEXt chunks after IDAT")
    entries = b"".join(struct.pack(">BBBBH", i & 255, 0, 0, 255, 1) for i in range(10))
    many = b"".join(chunk(b"sPLT", b"p%d\x00\x08" % i + entries) for i in range(1100))
    yield ("png_sPLT_1100_chunks.png", PNG_SIG + head + many + idat + IEND, "1100 sPLT chunks of 10 entries")
    entries = b"".join(struct.pack(">BBBBH", i & 255, (i >> 8) & 255, 0, 255, 1) for i in range(15000))
    yield ("png_sPLT_15000_entries.png", PNG_SIG + head + chunk(b"sPLT", b"big\x00\x08" + entries) + idat + IEND,
           "one sPLT with 15000 entries")

    # IDAT decompression bombs: legitimate all-zero images.
    yield ("png_gray_9459x9459_zeros.png", zero_image_png(9459, 9459, 8, 0, 8),
           "89.47 MP 8-bit gray all-zero image, just under --max-pixels")
    yield ("png_rgb_9487x6325_zeros.png", zero_image_png(9487, 6325, 8, 2, 24),
           "60 MP RGB all-zero image (over 100 KB: 180 MB of scanlines)")
    yield ("png_gray_65535x1365_zeros.png", zero_image_png(65535, 1365, 8, 0, 8),
           "65535 x 1365 8-bit gray all-zero image (widest rows)")
    yield ("png_adam7_gray_9000x9000_zeros.png", zero_image_png(9000, 9000, 8, 0, 8, interlace=1),
           "Adam7-interlaced 81 MP gray all-zero image")
    yield ("png_rgba16_4000x2900_zeros.png", zero_image_png(4000, 2900, 16, 6, 64),
           "16-bit RGBA 11.6 MP all-zero image (93 MB of scanlines)")
    plte = chunk(b"PLTE", bytes(range(256)) * 3)
    yield ("png_palette8_9459x9459_zeros.png", zero_image_png(9459, 9459, 8, 3, 8, extra=plte),
           "8-bit palette 89.47 MP all-zero image")
    yield ("png_palette1_9459x9459_zeros.png", zero_image_png(9459, 9459, 1, 3, 1, extra=chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff")),
           "1-bit palette 89.47 MP all-zero image (11 MB of scanlines, tiny file)")
    yield ("png_gray1_65535x1365_zeros.png", zero_image_png(65535, 1365, 1, 0, 1),
           "1-bit gray 65535 x 1365 all-zero image")

    # Declared dimensions.
    tiny_idat = chunk(b"IDAT", zlib.compress(bytes(4096), 9))
    for w, h in ((65535, 65535), (1, 2**31 - 1), (2**31 - 1, 1), (0, 0), (0x7FFFFFFF, 0x7FFFFFFF)):
        yield (f"png_dims_{w}x{h}.png", PNG_SIG + ihdr(w, h, 8, 2) + tiny_idat + IEND,
               f"IHDR declaring {w} x {h} RGB with a few bytes of image data")
    yield ("png_dims_9459x9459_rgba16_tiny.png", PNG_SIG + ihdr(9459, 9459, 16, 6) + tiny_idat + IEND,
           "IHDR 9459 x 9459 16-bit RGBA (716 MB raw) with a few bytes of image data")

    # Truncated.
    g = zero_image_png(9459, 9459, 8, 0, 8)
    yield ("png_gray_9459x9459_truncated.png", g[:len(g) // 2], "89 MP gray image cut in the middle of IDAT")
    yield ("png_signature_only.png", PNG_SIG, "PNG signature only")
    yield ("png_ihdr_only.png", PNG_SIG + head, "signature and IHDR, nothing else")


# ---------------------------------------------------------------------------------------------- JPEG


def jpeg_bytes(image: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", **kw)
    return buf.getvalue()


def segments(data: bytes):
    """Split a JPEG into (marker, bytes-including-marker) pieces; SOS pieces include their entropy data."""
    assert data[:2] == b"\xff\xd8"
    out = [(0xD8, data[:2])]
    i = 2
    while i < len(data):
        assert data[i] == 0xFF, i
        m = data[i + 1]
        if m == 0xD9:
            out.append((m, data[i:i + 2]))
            break
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        end = i + 2 + length
        if m == 0xDA:
            j = end
            while True:
                j = data.index(b"\xff", j)
                if data[j + 1] == 0 or 0xD0 <= data[j + 1] <= 0xD7:
                    j += 2
                    continue
                break
            end = j
        out.append((m, data[i:end]))
        i = end
    return out


def patch_sof(data: bytes, w: int, h: int) -> bytes:
    b = bytearray(data)
    for m, seg in segments(data):
        if m in (0xC0, 0xC1, 0xC2):
            at = data.index(seg)
            struct.pack_into(">HH", b, at + 5, h, w)
            return bytes(b)
    raise ValueError("no SOF")


def gradient(w, h, mode="RGB"):
    img = Image.linear_gradient("L").resize((w, h))
    if mode == "L":
        return img
    return Image.merge("RGB", (img, img.transpose(Image.Transpose.FLIP_LEFT_RIGHT), img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))


def tiff_ifd(entries, next_ifd):
    """Big-endian IFD: entries (tag, type, count, value-or-offset as 4 bytes)."""
    b = struct.pack(">H", len(entries))
    for tag, typ, count, value in entries:
        b += struct.pack(">HHI", tag, typ, count) + value
    return b + struct.pack(">I", next_ifd)


def app1_exif(tiff: bytes) -> bytes:
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_files():
    small = jpeg_bytes(gradient(64, 64), quality=85)
    small_prog = jpeg_bytes(gradient(64, 64), quality=85, progressive=True)
    body = small[2:]  # everything after SOI

    for tag, src in (("baseline", small), ("progressive", small_prog)):
        yield (f"jpeg_{tag}_65535x65535.jpg", patch_sof(src, 65535, 65535),
               f"{tag} SOF declaring 65535 x 65535 with a 64 x 64 image's data")
        yield (f"jpeg_{tag}_9459x9459_tiny.jpg", patch_sof(src, 9459, 9459),
               f"{tag} SOF declaring 9459 x 9459 (just under --max-pixels) with a 64 x 64 image's data")
    yield ("jpeg_baseline_65500x1365_tiny.jpg", patch_sof(small, 65500, 1365),
           "baseline SOF declaring 65500 x 1365 (widest rows under the pixel limit), tiny data")

    # Progressive with ~5000 scans: the first (DC first, Al=1) scan of a 64 x 64 gray image followed by
    # thousands of DC refinement scans (Ah=1, Al=0), whose data is one raw bit per block.
    flat = Image.new("L", (64, 64), 128)
    segs = segments(jpeg_bytes(flat, quality=90, progressive=True))
    sos = [s for m, s in segs if m == 0xDA]
    # Header pieces before the first scan (DQT, SOF2, DHT...), then the DC first scan.
    first_sos_index = next(i for i, (m, _) in enumerate(segs) if m == 0xDA)
    head = b"".join(s for _, s in segs[:first_sos_index])
    refine = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x10" + bytes(8)  # 64 blocks -> 8 bytes of bits
    yield ("jpeg_progressive_5000_scans.jpg", head + sos[0] + refine * 5000 + b"\xff\xd9",
           "progressive 64 x 64 gray with 5001 scans (repeated DC refinement)")
    # Same with an AC first scan repeated (its Huffman tables, defined just before it, sent once).
    # SOS layout for one component: FF DA, length, Ns, Cs, Td/Ta, Ss, Se, Ah/Al.
    k = next(i for i, (m, s) in enumerate(segs) if m == 0xDA and s[7] != 0 and s[9] >> 4 == 0)
    tables = b""
    j = k - 1
    while segs[j][0] != 0xDA:
        tables = segs[j][1] + tables
        j -= 1
    yield ("jpeg_progressive_4000_ac_scans.jpg", head + sos[0] + tables + segs[k][1] * 4000 + b"\xff\xd9",
           "progressive 64 x 64 gray with 4001 scans (one AC first scan repeated)")

    # Large coefficient buffers: real progressive encodes cut at ~90 KB.
    def noisy(w, h):
        g = gradient(w // 8, h // 8).resize((w, h), Image.Resampling.NEAREST)
        return g

    p = jpeg_bytes(noisy(8000, 8000), quality=75, progressive=True, subsampling=2)
    yield ("jpeg_progressive_8000x8000_cut.jpg", p[:90_000] + b"\xff\xd9",
           f"progressive 8000 x 8000 4:2:0 (full encode {len(p)} bytes) cut at 90 KB: whole-image coefficient buffers")
    p = jpeg_bytes(noisy(9000, 9000), quality=75, progressive=True, subsampling=0)
    yield ("jpeg_progressive444_9000x9000_cut.jpg", p[:90_000] + b"\xff\xd9",
           f"progressive 9000 x 9000 4:4:4 (full encode {len(p)} bytes) cut at 90 KB: 486 MB of coefficients")
    yield ("jpeg_progressive444_9000x9000_tiny.jpg", patch_sof(jpeg_bytes(gradient(64, 64), quality=85, progressive=True, subsampling=0), 9000, 9000),
           "progressive 4:4:4 SOF declaring 9000 x 9000 with a 64 x 64 image's data")

    # Marker floods.
    seg = b"\xff\xe1" + struct.pack(">H", 2 + 20) + b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + bytes(6)
    yield ("jpeg_app1_4000_small.jpg", b"\xff\xd8" + seg * 4000 + body, "4000 small APP1 Exif segments, then a 64 x 64 image")
    seg = b"\xff\xfe\x00\x08COMMEN"
    yield ("jpeg_com_9000_small.jpg", b"\xff\xd8" + seg * 9000 + body, "9000 small COM segments, then a 64 x 64 image")
    seg = b"\xff\xe1\xff\xffExif\x00\x00MM\x00\x2a\x00\x00\x00\x08"
    yield ("jpeg_app1_5000_declared_64k.jpg", b"\xff\xd8" + seg * 5000 + body,
           "5000 APP1 Exif segments each declaring 65535 bytes and carrying 16 (truncated)")
    seg = b"\xff\xfe\xff\xffCOMMENT"
    yield ("jpeg_com_9000_declared_64k.jpg", b"\xff\xd8" + seg * 9000 + body,
           "9000 COM segments each declaring 65535 bytes and carrying 9 (truncated)")
    for marker, tag in ((0xE1, "app1"), (0xFE, "com"), (0xE2, "app2")):
        yield (f"jpeg_{tag}_declared_64k_eof.jpg", b"\xff\xd8\xff" + bytes([marker]) + b"\xff\xffExif\x00\x00",
               f"a {tag.upper()} segment declaring 65535 bytes, then end of file")

    # Truncated.
    big = jpeg_bytes(gradient(2000, 2000), quality=85)
    yield ("jpeg_baseline_2000x2000_cut.jpg", big[:40_000], "baseline 2000 x 2000 cut at 40 KB (no EOI)")
    bigp = jpeg_bytes(gradient(2000, 2000), quality=85, progressive=True)
    yield ("jpeg_progressive_2000x2000_cut.jpg", bigp[:40_000], "progressive 2000 x 2000 cut at 40 KB (no EOI)")
    yield ("jpeg_soi_only.jpg", b"\xff\xd8", "SOI only")
    cut_at = small.index(b"\xff\xda")
    yield ("jpeg_headers_only.jpg", small[:cut_at], "all headers, no scan")

    # EXIF.
    le = b"MM\x00\x2a\x00\x00\x00\x08"
    loop = tiff_ifd([(0x0112, 3, 1, b"\x00\x06\x00\x00"), (0x8769, 4, 1, struct.pack(">I", 8))], 8)
    yield ("jpeg_exif_ifd_loop.jpg", b"\xff\xd8" + app1_exif(le + loop) + body,
           "EXIF: IFD0's next-IFD and ExifIFD pointers point back at IFD0")
    count = struct.pack(">H", 0xFFFF) + bytes(12 * 40)
    yield ("jpeg_exif_ifd_65535_entries.jpg", b"\xff\xd8" + app1_exif(le + count) + body,
           "EXIF: IFD0 claims 65535 entries, holds 40")
    huge_count = tiff_ifd([(0x0112, 3, 0xFFFFFFFF, struct.pack(">I", 0x7FFFFFF0)), (0x010F, 2, 0xFFFFFFFF, struct.pack(">I", 26))], 0)
    yield ("jpeg_exif_huge_value_counts.jpg", b"\xff\xd8" + app1_exif(le + huge_count) + body,
           "EXIF: orientation and Make entries with count 0xFFFFFFFF and far offsets")
    chain = b""
    n = 3000  # IFDs each pointing to the next, last back to the first
    base = 8
    for i in range(n):
        nxt = base + (i + 1) * 18 if i + 1 < n else base
        chain += tiff_ifd([(0x0112, 3, 1, b"\x00\x01\x00\x00")], nxt)
    yield ("jpeg_exif_3000_ifd_chain_loop.jpg", b"\xff\xd8" + app1_exif(le + chain) + body,
           "EXIF: 3000 chained IFDs, the last pointing back at the first")
    yield ("jpeg_exif_offset_past_end.jpg",
           b"\xff\xd8" + app1_exif(b"MM\x00\x2a\xff\xff\xff\xf0") + body, "EXIF: IFD0 offset 0xFFFFFFF0")
    many = app1_exif(le + loop) * 2000
    yield ("jpeg_exif_2000_loop_segments.jpg", b"\xff\xd8" + many + body, "2000 APP1 segments each with the IFD loop")

    # Components.
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 8 + 3 * 255, 8, 64, 64, 255) + b"".join(bytes([i + 1, 0x11, 0]) for i in range(255))
    segs = segments(small)
    out = b"".join(sof if m == 0xC0 else s for m, s in segs)
    yield ("jpeg_255_components.jpg", out, "SOF declaring 255 components")
    cmyk = jpeg_bytes(Image.new("CMYK", (64, 64), (10, 20, 30, 40)), quality=85)
    yield ("jpeg_cmyk_9400x9400_tiny.jpg", patch_sof(cmyk, 9400, 9400),
           "CMYK SOF declaring 9400 x 9400 with a 64 x 64 image's data")
    yield ("jpeg_cmyk_65535x65535_tiny.jpg", patch_sof(cmyk, 65535, 65535),
           "CMYK SOF declaring 65535 x 65535 with a 64 x 64 image's data")
    cmykp = jpeg_bytes(Image.new("CMYK", (64, 64), (10, 20, 30, 40)), quality=85, progressive=True)
    yield ("jpeg_cmyk_progressive_9400x9400_tiny.jpg", patch_sof(cmykp, 9400, 9400),
           "progressive CMYK SOF declaring 9400 x 9400 with a 64 x 64 image's data (4 x 177 MB coefficients)")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 64
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    lines = ["name\tbytes\tattack"]
    seen = set()
    for gen in (png_files, jpeg_files):
        for name, data, what in gen():
            assert name not in seen, name
            seen.add(name)
            (out / name).write_bytes(data)
            lines.append(f"{name}\t{len(data)}\t{what}")
    (out / "MANIFEST.tsv").write_text("\n".join(lines) + "\n")
    print(f"{len(seen)} files in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
