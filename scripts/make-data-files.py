"""Writes the data files of the readers' tests (test/fixtures/data-formats/) and of the data-formats
example (examples/data-formats/data/): .npy files by numpy itself, CSV files by Python's csv module,
PNG images by a minimal encoder below (zlib + struct; PIL is not needed). Run once, from anywhere,
with numpy installed: python3 scripts/make-data-files.py. The files are committed, so the tests and
the example need neither Python nor numpy. The same seed gives the same files."""

import csv
import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "test" / "fixtures" / "data-formats"
EXAMPLE = ROOT / "examples" / "data-formats" / "data"


def write_png(path, pixels):
    """An 8-bit PNG of a uint8 array: (h, w) gray, (h, w, 3) RGB, (h, w, 4) RGBA; each row with filter None or Sub."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    h, w = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    color_type = {1: 0, 3: 2, 4: 6}[channels]
    rows = pixels.reshape(h, w * channels)
    raw = bytearray()
    for i, row in enumerate(rows):
        if i % 2 == 0:
            raw += b"\x00" + row.tobytes()
        else:  # Sub: each byte minus the byte one pixel to its left
            left = np.concatenate([np.zeros(channels, np.uint8), row[:-channels]])
            raw += b"\x01" + (row - left).astype(np.uint8).tobytes()

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")
    )


def fresh(folder):
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def fixtures():
    fresh(FIXTURES)
    rng = np.random.default_rng(20)
    arrays = {
        "float32-2d": (rng.standard_normal((5, 3)) * 10).astype(np.float32),
        "float64-1d": rng.standard_normal(7) * 1e3,
        "int64-1d": np.array([0, 2, 1, -3, 2**40], dtype=np.int64),
        "int32-2d": rng.integers(-1000, 1000, (4, 2), dtype=np.int32),
        "uint8-3d": rng.integers(0, 255, (4, 2, 3), dtype=np.uint8),
        "bool-1d": np.array([True, False, True]),
    }
    expected = {}
    for name, a in arrays.items():
        np.save(FIXTURES / f"{name}.npy", a)
        expected[name] = {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.ravel().astype(np.float64).tolist()}
    np.lib.format.write_array(open(FIXTURES / "version2.npy", "wb"), arrays["float32-2d"], version=(2, 0))
    expected["version2"] = expected["float32-2d"]
    np.save(FIXTURES / "fortran.npy", np.asfortranarray(arrays["float32-2d"]))
    np.save(FIXTURES / "complex64.npy", np.ones(3, dtype=np.complex64))
    np.save(FIXTURES / "float16.npy", np.ones(3, dtype=np.float16))
    np.save(FIXTURES / "big-endian.npy", np.ones(3, dtype=">f4"))
    (FIXTURES / "truncated.npy").write_bytes((FIXTURES / "float32-2d.npy").read_bytes()[:-4])

    gray = {"dark": rng.integers(0, 128, (3, 4, 5)), "light": rng.integers(128, 256, (2, 4, 5))}
    rgb = {"blue": rng.integers(0, 256, (2, 3, 2, 3)), "red": rng.integers(0, 256, (3, 3, 2, 3))}
    for folder, classes in (("images-gray", gray), ("images-rgb", rgb)):
        for label, images in classes.items():
            for i, image in enumerate(images):
                write_png(FIXTURES / folder / label / f"{i:02d}.png", image)
        expected[folder] = {
            "classes": sorted(classes),
            "pixels": [image.astype(np.uint8).ravel().tolist() for label in sorted(classes) for image in classes[label]],
        }
    write_png(FIXTURES / "images-mixed" / "a" / "0.png", np.zeros((4, 5), np.uint8))
    write_png(FIXTURES / "images-mixed" / "b" / "0.png", np.zeros((5, 4), np.uint8))
    (FIXTURES / "images-mixed" / "b" / "notes.txt").write_text("not an image: skipped\n")

    with open(FIXTURES / "flowers.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["petal length", "petal width", "species", "height"])
        w.writerows([[1.4, 0.2, "setosa", 10], [4.7, 1.4, "versicolor", 12.5], [5.5, 2.1, "virginica", -1], [1.3, 0.3, "setosa", 1e3]])
    with open(FIXTURES / "bad-value.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerows([["a", "b", "y"], [1, 2, 0], [3, 4, 1], [5, "n/a", 0]])
    with open(FIXTURES / "ragged.csv", "w", newline="") as f:
        f.write("a,b,y\n1,2,0\n3,1\n")
    (FIXTURES / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


def example():
    fresh(EXAMPLE)
    rng = np.random.default_rng(9)

    def labelled_csv(name, x, labels):
        with open(EXAMPLE / name, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow([f"x{i + 1}" for i in range(x.shape[1])] + ["label"])
            w.writerows([[f"{v:.4f}" for v in row] + [label] for row, label in zip(x, labels)])

    # Two interleaving half circles, labels as text.
    n = 300
    t = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    labelled_csv("moons.csv", x + rng.normal(0, 0.15, (n, 2)), np.where(upper, "upper", "lower"))
    # A disc inside a ring.
    radius = np.where(rng.random(n) < 0.5, rng.uniform(0, 0.5, n), rng.uniform(0.7, 1.0, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.c_[radius * np.cos(angle), radius * np.sin(angle)] + rng.normal(0, 0.08, (n, 2))
    labelled_csv("circles.csv", x, np.where(radius < 0.6, "inner", "outer"))
    # Three overlapping Gaussian blobs in 4 dimensions, as numpy arrays.
    centres = rng.normal(0, 1.5, (3, 4))
    y = rng.integers(0, 3, n)
    np.save(EXAMPLE / "blobs-x.npy", (centres[y] + rng.normal(0, 1.2, (n, 4))).astype(np.float32))
    np.save(EXAMPLE / "blobs-y.npy", y.astype(np.int64))
    # 8×8 gray images of a bar, horizontal, vertical or diagonal, at a random place, with noise.
    for label in ("diagonal", "horizontal", "vertical"):
        for i in range(40):
            image = rng.uniform(0, 0.35, (8, 8))
            k = rng.integers(0, 8)
            if label == "horizontal":
                image[k, :] += 0.6
            elif label == "vertical":
                image[:, k] += 0.6
            else:
                image[np.arange(8), (np.arange(8) + k) % 8] += 0.6
            write_png(EXAMPLE / "bars" / label / f"{i:02d}.png", np.clip(image * 255, 0, 255).round())


if __name__ == "__main__":
    fixtures()
    example()
