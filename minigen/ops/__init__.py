"""The differentiable ops, one family per file, each opening with its table of derivatives;
:mod:`minigen.functional` gathers them.

    arithmetic     + - * / ** @, astype         elementwise    exp, log, sigmoid, relu, ...
    reduction      sum, mean, max, logsumexp    shape          reshape, indexing, joins, pad
    nn             linear, softmax, dropout     losses         cross-entropy, MSE, Gaussian NLL, KL
    conv           conv1d, conv2d, transposed   pooling        avg_pool2d, max_pool2d
    upsampling     upsample, pixel_shuffle      normalization  batch_norm, instance_norm, layer_norm
    embedding      embedding                    recurrent      rnn_cell, lstm_cell, gru_cell
    registry       how to check every op (not an op)
"""
