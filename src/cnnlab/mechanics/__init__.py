"""The lecture's arithmetic in NumPy: reference convolution and pooling, output sizes,
parameters, FLOPs, receptive fields and classic kernels."""

from cnnlab.mechanics.arithmetic import (
    LayerRow,
    ModelSummary,
    ReceptiveField,
    receptive_field,
    summarize,
)
from cnnlab.mechanics.connectivity import connectivity
from cnnlab.mechanics.kernels import (
    KERNELS,
    FilterResult,
    apply_kernel,
    filter_image,
    get_kernel,
    kernel_names,
    read_kernel,
    resolve_kernels,
)
from cnnlab.mechanics.measure import measure_receptive_field
from cnnlab.mechanics.reference import (
    avg_pool2d,
    avg_pool2d_loop,
    conv2d,
    conv2d_im2col,
    conv2d_loop,
    conv_output_size,
    global_avg_pool2d,
    global_max_pool2d,
    max_pool2d,
    max_pool2d_loop,
    pad2d,
    resolve_padding,
)

__all__ = [
    "avg_pool2d",
    "avg_pool2d_loop",
    "conv2d",
    "conv2d_im2col",
    "conv2d_loop",
    "conv_output_size",
    "global_avg_pool2d",
    "global_max_pool2d",
    "max_pool2d",
    "max_pool2d_loop",
    "pad2d",
    "resolve_padding",
    "LayerRow",
    "ModelSummary",
    "ReceptiveField",
    "connectivity",
    "measure_receptive_field",
    "receptive_field",
    "summarize",
    "KERNELS",
    "FilterResult",
    "apply_kernel",
    "filter_image",
    "get_kernel",
    "kernel_names",
    "read_kernel",
    "resolve_kernels",
]
