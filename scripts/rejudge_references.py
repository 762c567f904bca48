"""Judge the shipped flow and GAN references again on the embedded jets and rewrite the ``metrics`` of their
records (weights, spec, scaling and training record untouched). Run after the embedded sample is regenerated:

    python scripts/rejudge_references.py
"""

from __future__ import annotations

import json


def main() -> None:
    from triggernn.data import load_jets
    from triggernn.reference import flow as F
    from triggernn.reference import gan as Gm
    from triggernn.reference.run import SHIPPED_FLOW, SHIPPED_GAN, gan_quality
    from triggernn.reference.units import from_reference, to_reference

    ds = load_jets()
    flow, meta = F.load(SHIPPED_FLOW)
    scores = F.nll(flow, to_reference(ds.X_test, ds, meta["scaling"]))
    flow_metrics = {
        **F.evaluate(flow, ds.X_test, ds.y_test, ds.class_names, scores=scores),
        "data": ds.source,
    }
    G, gmeta = Gm.load(SHIPPED_GAN)
    fake = from_reference(Gm.generate(G, Gm.generator_inputs(ds.y_test, Gm.spec_of(gmeta), seed=1)), ds,
                          gmeta["scaling"])  # fmt: skip
    gan_metrics = {**gan_quality(ds.X_test, fake, ds.y_test, ds), "data": ds.source}
    for path, metrics in ((SHIPPED_FLOW, flow_metrics), (SHIPPED_GAN, gan_metrics)):
        record_file = path.with_suffix(".json")
        record = json.loads(record_file.read_text())
        record["metrics"] = json.loads(json.dumps(metrics))  # plain JSON types
        record_file.write_text(json.dumps(record, indent=1) + "\n")
        print(f"{record_file}: metrics judged again on {ds.source}")


if __name__ == "__main__":
    main()
