// The body of every kernel, compiled once per instruction-set level: a kernels_*.c file defines
// DK_WIDTH (lanes of a float vector) and DK_TABLE (the name of its table), switches the target
// on, and includes this file.
#include "levels.h"
#include "vector.h"

#include "attention.h"
#include "winograd.h"
#include "group_norm.h"
#include "softmax.h"

const dk_kernels DK_TABLE = {
    .attention_forward = attention_forward,
    .attention_backward = attention_backward,
    .winograd_input_tiles = winograd_input_tiles,
    .winograd_output_tiles = winograd_output_tiles,
    .group_norm_forward = group_norm_forward,
    .group_norm_backward = group_norm_backward,
    .silu_forward = silu_forward,
    .silu_backward = silu_backward,
    .exp = exp_floats,
    .softmax_rows = softmax_rows,
};
