// SimpleRNN for hls4ml's Vivado/Vitis backends (triggernn): h_t = activation(W x_t + b + U h_{t-1}), h_0 = 0.
// hls4ml 1.3.0 parses (Q)SimpleRNN but its Vivado/Vitis backends emit no code for it (the layer's output is
// left uninitialized); triggernn registers this template with those backends (triggernn/hls/simple_rnn.py).
// The two products use hls4ml's own dense kernels; the pre-activation is summed in accum_t, the activation
// (a lookup table) writes the state in the layer's result type.
#ifndef NNET_SIMPLE_RNN_H_
#define NNET_SIMPLE_RNN_H_

#include "nnet_activation.h"
#include "nnet_common.h"
#include "nnet_dense.h"
#include "nnet_recr_activations.h"

namespace nnet {

struct simple_rnn_config {
    typedef float accum_t;
    typedef float weight_t;
    typedef float recurrent_weight_t;
    typedef float bias_t;
    typedef dense_config mult_config1;
    typedef dense_config mult_config2;
    typedef activ_config ACT_CONFIG_T;
    template <class x_T, class y_T, class config_T> using activation = nnet::activation::tanh<x_T, y_T, config_T>;
    static const unsigned n_in = 1;
    static const unsigned n_state = 1;
    static const unsigned n_sequence = 1;
};

template <class data_T, class res_T, typename CONFIG_T>
void simple_rnn_stack(data_T data[CONFIG_T::n_sequence * CONFIG_T::n_in], res_T res[CONFIG_T::n_state],
                      typename CONFIG_T::weight_t kernel[CONFIG_T::n_in * CONFIG_T::n_state],
                      typename CONFIG_T::recurrent_weight_t rec_kernel[CONFIG_T::n_state * CONFIG_T::n_state],
                      typename CONFIG_T::bias_t bias[CONFIG_T::n_state]) {
    res_T h[CONFIG_T::n_state];
    data_T x[CONFIG_T::n_in];
    typename CONFIG_T::accum_t wx[CONFIG_T::n_state];
    typename CONFIG_T::accum_t uh[CONFIG_T::n_state];
    typename CONFIG_T::accum_t pre[CONFIG_T::n_state];
    typename CONFIG_T::mult_config2::bias_t no_bias[CONFIG_T::n_state];
    #pragma HLS ARRAY_PARTITION variable=h complete
    #pragma HLS ARRAY_PARTITION variable=x complete
    #pragma HLS ARRAY_PARTITION variable=wx complete
    #pragma HLS ARRAY_PARTITION variable=uh complete
    #pragma HLS ARRAY_PARTITION variable=pre complete

    for (unsigned i = 0; i < CONFIG_T::n_state; i++) {
        #pragma HLS UNROLL
        h[i] = 0;
        no_bias[i] = 0;
    }
SequenceLoop:
    for (unsigned t = 0; t < CONFIG_T::n_sequence; t++) {
        for (unsigned j = 0; j < CONFIG_T::n_in; j++) {
            #pragma HLS UNROLL
            x[j] = data[j + t * CONFIG_T::n_in];
        }
        nnet::dense<data_T, typename CONFIG_T::accum_t, typename CONFIG_T::mult_config1>(x, wx, kernel, bias);
        nnet::dense<res_T, typename CONFIG_T::accum_t, typename CONFIG_T::mult_config2>(h, uh, rec_kernel, no_bias);
        for (unsigned i = 0; i < CONFIG_T::n_state; i++) {
            #pragma HLS UNROLL
            pre[i] = wx[i] + uh[i];
        }
        CONFIG_T::template activation<typename CONFIG_T::accum_t, res_T, typename CONFIG_T::ACT_CONFIG_T>::activation(pre, h);
    }
    for (unsigned i = 0; i < CONFIG_T::n_state; i++) {
        #pragma HLS UNROLL
        res[i] = h[i];
    }
}

} // namespace nnet

#endif
