"""Adds new_key_{layer} / new_value_{layer} outputs to the exported transformer: the keys and values of the
positions a run was fed, the second half of each layer's present = Concat(past, new). A runtime that keeps
the cache itself fetches these instead of the presents, so a decoding step no longer hands it a fresh copy
of the whole cache (most of the memory a call went through). The presents stay, so the graph still serves
a runtime that reads them. Usage: kv_outputs.py transformer.onnx
"""
import sys

import onnx
from onnx import helper


def add_new_kv_outputs(path):
    model = onnx.load(path)
    graph = model.graph
    producers = {out: node for node in graph.node for out in node.output}
    outputs = {o.name: o for o in graph.output}
    added = 0
    for name in list(outputs):
        if not name.startswith("present_"):
            continue
        concat = producers[name]
        if concat.op_type != "Concat" or len(concat.input) != 2 or concat.input[0] != name.replace("present_", "past_"):
            raise ValueError(f"{name} is not Concat(past, new): {concat.op_type} {list(concat.input)}")
        new = name.replace("present_", "new_")
        if new in outputs:
            continue
        graph.node.append(helper.make_node("Identity", [concat.input[1]], [new], name=f"/kv/{new}"))
        dims = outputs[name].type.tensor_type.shape.dim
        shape = [d.dim_param or d.dim_value for d in dims]
        shape[2] = "sequence"
        graph.output.append(helper.make_tensor_value_info(new, outputs[name].type.tensor_type.elem_type, shape))
        added += 1
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return added


if __name__ == "__main__":
    print(f"{sys.argv[1]}: {add_new_kv_outputs(sys.argv[1])} outputs added")
