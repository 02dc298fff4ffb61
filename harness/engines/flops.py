"""FLOPs one training example executes, read from the XLA HLO of the train step.

The train step's forward and backward pass (:func:`harness.engines.step.make_gradients`)
is lowered by XLA (``experimental_get_compiler_ir(...)(stage="hlo")``) and its
``dot`` and ``convolution`` instructions are counted: a dot costs
2 x (output elements) x (contracted elements), a convolution 2 x (output
elements) x (kernel elements per output feature). Elementwise work (bias adds,
activations, the loss, the optimizer's update) is not counted, as in the model
FLOPs that large-scale training reports quote. Divided by the batch this is the
``train_flops_per_example`` column; :func:`harness.components.models.layer_flops`
counts the same from the layers, and a test checks the two agree.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

log = logging.getLogger(__name__)

_SHAPE = r"[a-z0-9]+\[([0-9,]*)\]"
_DOT = re.compile(rf"=\s*{_SHAPE}\S*\s+dot\({_SHAPE}\S*\s+[^,]+,\s*{_SHAPE}.*?lhs_contracting_dims=\{{([0-9,]*)\}}")
_CONV = re.compile(rf"=\s*{_SHAPE}\S*\s+convolution\({_SHAPE}\S*\s+[^,]+,\s*{_SHAPE}.*?dim_labels=([a-z0-9]+)_([a-z0-9]+)->")


def _dims(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


_INSTR = re.compile(r"^\s*(ROOT\s+)?%([\w.\-]+)\s*=(.*)$")
_COMP = re.compile(r"^\s*(ENTRY\s+)?%([\w.\-]+)\s+\(")
_REF = re.compile(r"%([\w.\-]+)")


def live_instructions(hlo: str) -> list[str]:
    """The instruction lines the ENTRY computation's result depends on (dead code dropped).

    TensorFlow's gradient of a convolution emits the input gradient even where
    nothing uses it (the first layer's); XLA removes it before running, so it is
    not counted either.
    """
    lines, roots, entry, comp = {}, {}, None, None
    for line in hlo.splitlines():
        m = _INSTR.match(line)
        c = None if m else _COMP.match(line)
        if c:
            comp = c[2]
            entry = comp if c[1] else entry
        elif m and comp is not None:
            lines[m[2]] = m[3]
            if m[1]:
                roots[comp] = m[2]
    todo, seen = [roots.get(entry)] if entry in roots else [], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for ref in _REF.findall(lines[name].split(", metadata=")[0]):
            target = ref if ref in lines else roots.get(ref)
            if target is not None and target not in seen:
                todo.append(target)
    return [f"%{n} ={lines[n]}" for n in lines if n in seen]


def hlo_flops(hlo: str) -> float:
    """FLOPs of the live ``dot`` and ``convolution`` instructions of an HLO module's text."""
    total = 0.0
    for line in live_instructions(hlo):
        if " dot(" in line:
            m = _DOT.search(line)
            if m:
                out, lhs, contracting = _dims(m[1]), _dims(m[2]), _dims(m[4])
                total += 2.0 * math.prod(out) * math.prod(lhs[d] for d in contracting)
        elif " convolution(" in line:
            m = _CONV.search(line)
            if m:
                out, rhs, rhs_labels = _dims(m[1]), _dims(m[3]), m[5]
                per_output = math.prod(rhs) // rhs[rhs_labels.index("o")]
                total += 2.0 * math.prod(out) * per_output
    return total


def train_flops_per_example(model: Any, x: Any, y: Any) -> float:
    """FLOPs of one training example: the HLO of one step's gradients on the batch ``(x, y)`` / its size."""
    import keras
    import tensorflow as tf

    from harness.engines.step import make_gradients

    batch = int(x.shape[0])
    gradients = tf.function(make_gradients(model, keras.optimizers.SGD(), batch), jit_compile=True)
    hlo = gradients.experimental_get_compiler_ir(tf.constant(x), tf.constant(y))(stage="hlo")
    return hlo_flops(hlo) / batch


def model_cost(model: Any, x_batch: Any, y_batch: Any) -> dict[str, Any]:
    """``model_params``, ``train_flops_per_example`` and its source for one model and one batch.

    The XLA count where XLA can lower the step; else the layer count, with the reason in the source.
    """
    from harness.components.models import layer_flops

    out: dict[str, Any] = {"model_params": int(model.count_params())}
    try:
        out["train_flops_per_example"] = train_flops_per_example(model, x_batch, y_batch)
        out["train_flops_source"] = "xla_hlo"
    except Exception as exc:  # noqa: BLE001 - a user's model may not lower to XLA
        log.info("XLA cost of the step unavailable (%s); counting the layers", exc)
        out["train_flops_per_example"] = layer_flops(model)
        out["train_flops_source"] = f"layer_count (XLA: {type(exc).__name__})"
    if not out["train_flops_per_example"] > 0:
        out["train_flops_per_example"] = math.nan
        out["train_flops_source"] = "unavailable: no dense or convolution products found"
    return out
