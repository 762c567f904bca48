"""SimpleRNN for hls4ml 1.3.0's Vivado and Vitis backends.

hls4ml parses a (Q)SimpleRNN into its graph, but those backends have no template for it: the emitted C++
declares the layer's output and never computes it, so the C simulation returns uninitialized memory with no
error (measured: largest error 5.6 on a next-number regression whose targets lie in [-1, 1]). This module
registers a config and a function template and the C++ (``cpp/nnet_simple_rnn.h``) with both backends, using
hls4ml's extension API (``register_template``, ``register_source``): ``h_t = tanh(W x_t + b + U h_{t-1})``
with hls4ml's own dense kernels and tanh table, so the types and tables of ``hls.recurrent`` apply as for
the GRU. Call :func:`register` once before converting; it is idempotent.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["register"]

_SOURCE = Path(__file__).parent.parent / "cpp" / "nnet_simple_rnn.h"
_registered = False

_CONFIG = """struct config{index} : nnet::simple_rnn_config {{
    typedef {accum_t.name} accum_t;
    typedef {weight_t.name} weight_t;
    typedef {recurrent_weight_t.name} recurrent_weight_t;
    typedef {bias_t.name} bias_t;
    typedef config{index}_1 mult_config1;
    typedef config{index}_2 mult_config2;
    typedef {activation}_config{index} ACT_CONFIG_T;
    template<class x_T, class y_T, class config_T>
    using activation = nnet::activation::{activation}<x_T, y_T, config_T>;
    static const unsigned n_in = {n_in};
    static const unsigned n_state = {n_state};
    static const unsigned n_sequence = {n_sequence};
}};\n"""

_FUNCTION = "nnet::simple_rnn_stack<{input_t}, {output_t}, {config}>({input}, {output}, {w}, {wr}, {b});"


def _templates():
    from hls4ml.backends.backend import get_backend
    from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate
    from hls4ml.backends.vivado.passes.recurrent_templates import (
        activ_config_template,
        recr_mult_config_template_1,
    )
    from hls4ml.model.layers import SimpleRNN

    def mult_config(node, index: str, n_in: int, weight: str, bias_type, reuse) -> str:
        p = {}
        p["index"] = index
        p["n_in"], p["n_out"] = n_in, node.get_attr("n_out")
        p["strategy"] = (
            node.get_attr("strategy") or node.model.config.get_strategy(node) or "latency"
        ).lower()
        p["reuse"] = reuse
        w = node.get_weights(weight)
        p["nzeros"], p["nonzeros"] = w.nzeros, w.nonzeros
        p["accum_t"] = node.get_attr("accum_t")
        p["bias_t"] = bias_type
        p["weight_t"] = w.type
        p["product_type"] = get_backend("vivado").product_type(
            node.get_input_variable().type.precision, w.type.precision
        )
        p["dense_function"] = (
            "nnet::DenseLatency" if p["strategy"].lower() == "latency" else "nnet::DenseResource_rf_leq_nin"
        )
        return recr_mult_config_template_1.format(**p)

    class SimpleRNNConfigTemplate(LayerConfigTemplate):
        def __init__(self):
            super().__init__(SimpleRNN)
            self.template = _CONFIG

        def format(self, node):
            if node.get_attr("return_sequences") or node.get_attr("pass_initial_states", False):
                raise ValueError("triggernn's SimpleRNN template supports return_sequences=False only")
            params = self._default_config_params(node)
            n_seq, n_in = map(int, node.get_input_variable().shape[:2])
            params.update(n_in=n_in, n_sequence=n_seq, n_state=node.get_attr("n_out"))
            act = self._default_config_params(node)
            act.update(type=node.get_attr("activation"), n_in=node.get_attr("n_out"))
            bias_t, n_state, reuse = node.get_weights("bias").type, node.get_attr("n_out"), params["reuse"]
            mult1 = mult_config(node, f"{node.index}_1", n_in, "weight", bias_t, reuse)
            mult2 = mult_config(node, f"{node.index}_2", n_state, "recurrent_weight", bias_t, reuse)
            return "\n".join(
                [mult1, mult2, activ_config_template.format(**act), self.template.format(**params)]
            )

    class SimpleRNNFunctionTemplate(FunctionCallTemplate):
        def __init__(self):
            super().__init__(SimpleRNN, include_header=["nnet_utils/nnet_simple_rnn.h"])
            self.template = _FUNCTION

        def format(self, node):
            params = self._default_function_params(node)
            params["w"] = node.get_weights("weight").name
            params["wr"] = node.get_weights("recurrent_weight").name
            params["b"] = node.get_weights("bias").name
            return self.template.format(**params)

    return SimpleRNNConfigTemplate, SimpleRNNFunctionTemplate


def register() -> None:
    """Register the SimpleRNN templates and C++ with hls4ml's Vivado and Vitis backends (once)."""
    global _registered
    if _registered:
        return
    import hls4ml

    config_cls, function_cls = _templates()
    for name in ("Vivado", "Vitis"):
        backend = hls4ml.backends.get_backend(name)
        backend.register_template(config_cls)
        backend.register_template(function_cls)
        backend.register_source(_SOURCE)
    _registered = True
