"""Jet datasets: generation (Pythia 8 + FastJet), the 16 hls4ml high-level features, and loaders.

Public API::

    from triggernn.data import load_jets, generate_jets, JetDataset, DataError
    from triggernn.data import CLASS_NAMES, HLF_FEATURES, EMBEDDED_JETS
"""

from triggernn.data.errors import DataError
from triggernn.data.features import CLASS_NAMES, HLF_FEATURES, hlf_features
from triggernn.data.generate import generate_jets
from triggernn.data.jets import EMBEDDED_JETS, JetDataset, load_jets

__all__ = [
    "CLASS_NAMES",
    "EMBEDDED_JETS",
    "HLF_FEATURES",
    "DataError",
    "JetDataset",
    "generate_jets",
    "hlf_features",
    "load_jets",
]
