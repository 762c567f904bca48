"""Reference models trained on a GPU where there is one (PyTorch): too heavy or too unusual for the trigger,
the yardstick the FPGA models are measured against. ``flow``: a masked autoregressive flow (zuko) for the
density of QCD jets, whose log-likelihood is an anomaly score."""
