"""Makes the preprocessing test fixtures in Tests/ImageTests/Fixtures/preprocess/.

What it makes: a few small seeded synthetic RGB images (noise, gradients, gradient + noise) stored
as raw bytes (`*.rgb`: rows top to bottom, R G B per pixel, no header), and what the reference
libraries produce from them, also as raw RGB bytes:
  * `cv2.resize(..., interpolation=cv2.INTER_LINEAR)` (what `OpenCVResize.linear` must match
    byte for byte) and `PIL.Image.resize(..., Image.BILINEAR)` (what `PillowResize.bilinear` must
    match within 1 level), at several target sizes: upscale, downscale, exact 2x, identity, tiny;
  * the full 224x224 centre crops of Megvii's eval pipeline and of torchvision's, for one image;
  * sampled network-input floats for both styles (numpy float32, same operations as PyTorch);
  * the resize / crop geometry of both pipelines for many image sizes (pure integer/float maths).
`index.json` lists everything with sizes and file names. Nothing is copied from /work/shared.

The two pipelines are written out below (`megvii_crop`, `torchvision_crop`) from Megvii's
ShuffleNet-Series eval code (OpencvResize(256) + CenterCrop(224) + ToBGRTensor) and torchvision's
Resize(256) + CenterCrop(224) + ToTensor + Normalize; torch itself is not needed.

Rerun (overwrites the fixtures; output is deterministic for a given OpenCV / Pillow version):
    /work/main/.venv/bin/python Scripts/make_preprocess_fixtures.py
Made with opencv-python-headless 5.0.0 and Pillow 13.0.0 (recorded in index.json).
"""
import json
import os

import cv2
import numpy as np
from PIL import Image

SHORT_SIDE = 256
CROP = 224
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ImageTests", "Fixtures", "preprocess")


# ---------------------------------------------------------------- the two reference pipelines

def megvii_geometry(w, h):
    """Megvii OpencvResize target (Python floats, same order) and torchvision CenterCrop offsets."""
    rw, rh = (int(SHORT_SIDE / h * w + 0.5), SHORT_SIDE) if h < w else (SHORT_SIDE, int(SHORT_SIDE / w * h + 0.5))
    return rw, rh, int(round((rw - CROP) / 2.0)), int(round((rh - CROP) / 2.0))


def torchvision_geometry(w, h):
    """torchvision Resize(256) on a PIL image (_compute_resized_output_size) and CenterCrop offsets."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = SHORT_SIDE, int(SHORT_SIDE * long / short)
    rw, rh = (new_short, new_long) if w <= h else (new_long, new_short)
    return rw, rh, int(round((rw - CROP) / 2.0)), int(round((rh - CROP) / 2.0))


def megvii_crop(rgb):
    """RGB uint8 HxWx3 -> the 224x224 RGB crop Megvii's network sees (before BGR planes)."""
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # OpencvResize works on BGR; resize is per channel
    h, w = bgr.shape[:2]
    rw, rh, left, top = megvii_geometry(w, h)
    resized = cv2.resize(bgr, (rw, rh), interpolation=cv2.INTER_LINEAR)[:, :, ::-1]
    return np.ascontiguousarray(resized[top:top + CROP, left:left + CROP])


def torchvision_crop(rgb):
    """RGB uint8 HxWx3 -> the 224x224 RGB crop torchvision's pipeline sees (before ToTensor)."""
    image = Image.fromarray(rgb)
    rw, rh, left, top = torchvision_geometry(*image.size)
    resized = image.resize((rw, rh), Image.BILINEAR)
    return np.asarray(resized.crop((left, top, left + CROP, top + CROP)))


def megvii_tensor(crop):
    """ToBGRTensor: BGR planes, float 0..255."""
    return crop[:, :, ::-1].transpose(2, 0, 1).astype(np.float32)


def torchvision_tensor(crop):
    """ToTensor (/255 in float32) then Normalize ((x - mean) / std in float32)."""
    x = crop.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    return (x - IMAGENET_MEAN[:, None, None]) / IMAGENET_STD[:, None, None]


# ---------------------------------------------------------------- synthetic sources

def noise(rng, w, h):
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def gradient_noise(rng, w, h, sigma):
    """Smooth colour ramps plus Gaussian noise: exercises both flat areas and sharp edges."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    ramps = np.stack([xx * 255 / max(w - 1, 1), yy * 255 / max(h - 1, 1), (xx * 3 + yy * 2) % 256], axis=-1)
    return np.clip(ramps + rng.normal(0, sigma, ramps.shape), 0, 255).round().astype(np.uint8)


def write_rgb(name, array):
    path = os.path.join(OUT_DIR, name)
    with open(path, "wb") as f:
        f.write(np.ascontiguousarray(array, dtype=np.uint8).tobytes())
    return name


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    rng = np.random.default_rng(20261129)
    sources = {
        "noise_37x29": noise(rng, 37, 29),
        "noise_2x3": noise(rng, 2, 3),
        "noise_1x1": noise(rng, 1, 1),
        "noise_120x96": noise(rng, 120, 96),
        "gradient_noise_41x150": gradient_noise(rng, 41, 150, 30),
        "gradient_noise_120x90": gradient_noise(rng, 120, 90, 12),
    }
    index = {
        "generator": "Scripts/make_preprocess_fixtures.py",
        "opencv": cv2.__version__,
        "pillow": Image.__version__,
        "format": "raw RGB bytes, rows top to bottom, no header",
        "sources": [],
        "resizes": [],
        "crops": [],
        "tensorSamples": [],
        "geometry": [],
    }
    for name, image in sources.items():
        h, w = image.shape[:2]
        index["sources"].append({"name": name, "width": w, "height": h, "file": write_rgb(name + ".rgb", image)})

    # (source, target width, target height): upscale, downscale, mixed, exact 2x, identity, tiny.
    # The 41x150 cases shrink the height much more than the width, so Pillow filters vertically first.
    resizes = [
        ("noise_37x29", 64, 50), ("noise_37x29", 13, 11), ("noise_37x29", 37, 29), ("noise_37x29", 1, 1),
        ("noise_37x29", 5, 77),
        ("noise_2x3", 7, 300), ("noise_2x3", 1, 1), ("noise_1x1", 5, 4),
        ("noise_120x96", 61, 50), ("noise_120x96", 60, 48), ("noise_120x96", 47, 90), ("noise_120x96", 300, 7),
        ("gradient_noise_41x150", 20, 71), ("gradient_noise_41x150", 60, 100),
    ]
    for source, w, h in resizes:
        image = sources[source]
        for resampler, result in (
            ("opencv", cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)),
            ("pillow", np.asarray(Image.fromarray(image).resize((w, h), Image.BILINEAR))),
        ):
            name = f"{source}_to_{w}x{h}.{resampler}.rgb"
            index["resizes"].append({"source": source, "resampler": resampler, "width": w, "height": h,
                                     "file": write_rgb(name, result)})

    # Full pipelines on one image, and sampled tensor values (plane, row, column, value).
    crop_source = "gradient_noise_120x90"
    sample_rng = np.random.default_rng(7)
    positions = [(p, y, x) for p in range(3) for (y, x) in [(0, 0), (223, 223), (0, 223), (223, 0), (111, 112)]]
    positions += [(int(p), int(y), int(x)) for p, y, x in zip(sample_rng.integers(0, 3, 49),
                                                             sample_rng.integers(0, CROP, 49),
                                                             sample_rng.integers(0, CROP, 49))]
    for style, crop_fn, tensor_fn in (("megvii", megvii_crop, megvii_tensor),
                                      ("torchvision", torchvision_crop, torchvision_tensor)):
        crop = crop_fn(sources[crop_source])
        index["crops"].append({"source": crop_source, "style": style,
                               "file": write_rgb(f"{crop_source}.{style}_crop.rgb", crop)})
        tensor = tensor_fn(crop)
        index["tensorSamples"].append({
            "source": crop_source, "style": style,
            # float32 values written as the exact decimal of the float32 (repr of its float64 widening)
            "samples": [[p, y, x, float(tensor[p, y, x])] for p, y, x in positions],
        })

    # Geometry for photo-like, square, extreme and rounding-tie sizes (ties: 256*W/H ends in .5,
    # crop offsets ending in .5 round half to even).
    geo_rng = np.random.default_rng(11)
    sizes = [(500, 375), (375, 500), (333, 500), (500, 333), (256, 256), (224, 224), (1, 1), (1, 1000),
             (1000, 1), (513, 512), (512, 513), (515, 512), (299, 299), (640, 427), (427, 640), (4000, 3000),
             (257, 256), (256, 257), (481, 512), (3, 2), (2, 3)]
    sizes += [tuple(int(v) for v in geo_rng.integers(1, 5000, 2)) for _ in range(120)]
    for w, h in sizes:
        for style, geometry in (("megvii", megvii_geometry), ("torchvision", torchvision_geometry)):
            rw, rh, left, top = geometry(w, h)
            index["geometry"].append({"style": style, "width": w, "height": h, "resizedWidth": rw,
                                      "resizedHeight": rh, "cropLeft": left, "cropTop": top})

    with open(os.path.join(OUT_DIR, "index.json"), "w") as f:
        json.dump(index, f)
    total = sum(os.path.getsize(os.path.join(OUT_DIR, n)) for n in os.listdir(OUT_DIR))
    print(f"wrote {len(os.listdir(OUT_DIR))} files, {total / 1024:.1f} KiB, to {os.path.normpath(OUT_DIR)}")


if __name__ == "__main__":
    main()
