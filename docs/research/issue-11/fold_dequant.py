# Fold fp16 DEQUANTIZE ops of a TFLite model into fp32 constant tensors (weights unchanged in value).
import sys, numpy as np, flatbuffers
import schema_py_generated as S
src, dst = sys.argv[1], sys.argv[2]
buf = open(src, 'rb').read()
m = S.ModelT.InitFromObj(S.Model.GetRootAs(buf, 0))
deq = [i for i, oc in enumerate(m.operatorCodes) if max(oc.builtinCode, oc.deprecatedBuiltinCode) == S.BuiltinOperator.DEQUANTIZE]
g = m.subgraphs[0]
keep = []
for op in g.operators:
    if op.opcodeIndex in deq:
        ti, to = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
        assert ti.type == S.TensorType.FLOAT16, ti.type
        data = np.frombuffer(bytes(bytearray(m.buffers[ti.buffer].data)), dtype='<f2').astype('<f4')
        nb = S.BufferT(); nb.data = np.frombuffer(data.tobytes(), dtype=np.uint8)
        m.buffers.append(nb); to.buffer = len(m.buffers) - 1
    else:
        keep.append(op)
print('folded', len(g.operators) - len(keep), 'DEQUANTIZE ops')
g.operators = keep
b = flatbuffers.Builder(0); b.Finish(m.Pack(b), file_identifier=b'TFL3')
open(dst, 'wb').write(b.Output())
