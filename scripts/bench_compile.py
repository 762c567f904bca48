"""Bring-your-own-model benchmark: calibrated precision against hls4ml's default, measured side by side.

    python scripts/bench_compile.py                 # table on stdout, JSON in runs/bench_compile.json

Models, all trained here on the embedded jets (nothing downloaded):
- a float dense tagger on unstandardized features (values up to ~600: beyond hls4ml's default fixed<16,6>),
  calibrated at several widths;
- a float CNN on 8x8 jet images scaled x50;
- the QKeras dense and CNN taggers of configs/jet_dense.yaml and configs/jet_cnn.yaml (few epochs), compiled
  with no calibration data (uniform inputs on the stated range).
Per row: argmax agreement with Keras and the largest output difference on the same held-out events, the
fraction of bit-exact logits, and the estimated multipliers (bit-weighted: multipliers x weight bits x input
bits) of both configurations.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

import numpy as np


def _float_dense(ds):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    x = inp = tf.keras.Input((16,), name="features")
    for i, w in enumerate((64, 32, 32), start=1):
        x = tf.keras.layers.Dense(w, activation="relu", name=f"fc{i}")(x)
    x = tf.keras.layers.Dense(5, name="logits")(x)
    m = tf.keras.Model(inp, tf.keras.layers.Activation("softmax", name="softmax")(x), name="float_dense")
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(ds.X_train, ds.y_train, epochs=20, batch_size=256, verbose=0)
    return m


def _float_cnn(ds):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    x = inp = tf.keras.Input(ds.X_train.shape[1:], name="image")
    x = tf.keras.layers.Conv2D(8, 3, activation="relu", name="conv1")(x)
    x = tf.keras.layers.MaxPooling2D(2, name="pool1")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = tf.keras.layers.Dense(16, activation="relu", name="fc1")(x)
    x = tf.keras.layers.Dense(5, name="logits")(x)
    m = tf.keras.Model(inp, tf.keras.layers.Activation("softmax", name="softmax")(x), name="float_cnn")
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(ds.X_train * 50, ds.y_train, epochs=10, batch_size=128, verbose=0)
    return m


def _qkeras(config: str, epochs: int):
    from triggernn.config import load_config
    from triggernn.models import build_model
    from triggernn.pipeline import prepare_data
    from triggernn.train import seed_everything, train_model

    cfg = load_config(config).with_overrides(train={"epochs": epochs})
    ds, X = prepare_data(cfg)
    seed_everything(0)
    model = build_model(cfg, X["X_train"].shape[1:], len(ds.class_names), quantized=True)
    train_model(model, cfg.train, X["X_train"], ds.y_train, X["X_val"], ds.y_val, progress=False)
    return model


def main(argv: list[str] | None = None) -> int:
    from triggernn.compiler import compile_model
    from triggernn.data import load_jets

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("runs/bench_compile.json"))
    p.add_argument("--widths", type=int, nargs="+", default=[12, 14, 16, 18])
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    feats = load_jets(None, "features", standardize=False, seed=5)
    images = load_jets(None, "images", image_size=8, seed=2)
    Xf = np.concatenate([feats.X_val, feats.X_test])
    yf = np.concatenate([feats.y_val, feats.y_test])
    Xi, yi = np.concatenate([images.X_val, images.X_test]) * 50, np.concatenate([images.y_val, images.y_test])
    cases = [
        (f"float dense, {w} bits", _float_dense, feats, dict(data=Xf, labels=yf, width=w))
        for w in args.widths
    ]
    cases += [(f"float CNN, {w} bits", _float_cnn, images, dict(data=Xi, labels=yi, width=w, io_type="io_stream"))
              for w in (14, 16, 18)]  # fmt: skip
    cases += [
        ("QKeras dense (no data)", lambda _: _qkeras("configs/jet_dense.yaml", 10), None,
         dict(data=None, input_range=(-4.0, 4.0))),
        ("QKeras CNN (no data)", lambda _: _qkeras("configs/jet_cnn.yaml", 5), None,
         dict(data=None, input_range=(0.0, 1.0), io_type="io_stream")),
    ]  # fmt: skip
    models: dict = {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, build, ds, kw in cases:
            key = build.__name__ if ds is not None else label
            if key not in models:
                models[key] = build(ds)
            r = compile_model(
                models[key], name="bench", out=Path(tmp) / "prj", run_root=Path(tmp) / "runs", **kw
            )
            v = r.verification
            cost = {k: sum(row["bit_weighted"] for row in rows_) for k, rows_ in r.cost.items()}
            rows.append(
                {
                    "model": label,
                    "width": r.calibration.width,
                    "argmax": v.output_argmax_agreement,
                    "max_diff": v.max_output_diff,
                    "bit_exact": v.bit_exact_fraction,
                    "default_argmax": r.default["argmax_agreement"],
                    "default_max_diff": r.default["max_abs_diff"],
                    "bitweighted": cost["calibrated"],
                    "default_bitweighted": cost["hls4ml_default"],
                    "n_test": v.n_events,
                }
            )
            print(f"done: {label}", flush=True)
    head = (f"{'model':<26} {'argmax':>8} {'max diff':>9} {'exact':>7} | {'default argmax':>14} {'max diff':>9} | "
            f"{'bit-weighted mults':>18} {'default':>10}")  # fmt: skip
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        print(
            f"{r['model']:<26} {r['argmax']:>8.2%} {r['max_diff']:>9.3g} {r['bit_exact']:>7.1%} | "
            f"{r['default_argmax']:>14.2%} {r['default_max_diff']:>9.3g} | {r['bitweighted']:>18,} "
            f"{r['default_bitweighted']:>10,}"
        )
    print(
        f"(held-out events per row: {rows[0]['n_test']} to {rows[-1]['n_test']}; exact = logits bit for bit)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
