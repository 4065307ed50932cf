# Rewrite PRELU (unsupported by tract-tflite 0.23) as max(x,0) + alpha*min(x,0), and fold DEQUANTIZE.
import sys, numpy as np, flatbuffers
import schema_py_generated as S
src, dst = sys.argv[1], sys.argv[2]
m = S.ModelT.InitFromObj(S.Model.GetRootAs(open(src, 'rb').read(), 0)); g = m.subgraphs[0]
def code(oc): return max(oc.builtinCode, oc.deprecatedBuiltinCode)
def opcode(c):
    for i, oc in enumerate(m.operatorCodes):
        if code(oc) == c and not oc.customCode: return i
    oc = S.OperatorCodeT(); oc.builtinCode = c; oc.deprecatedBuiltinCode = min(c, 127); oc.version = 1
    m.operatorCodes.append(oc); return len(m.operatorCodes) - 1
def tensor(name, shape, data=None):
    t = S.TensorT(); t.name = name.encode(); t.shape = np.array(shape, dtype=np.int32); t.type = S.TensorType.FLOAT32; t.buffer = 0
    if data is not None:
        b = S.BufferT(); b.data = np.frombuffer(np.asarray(data, '<f4').tobytes(), np.uint8); m.buffers.append(b); t.buffer = len(m.buffers) - 1
    g.tensors.append(t); return len(g.tensors) - 1
def op(c, ins, outs, otype=None, opts=None):
    o = S.OperatorT(); o.opcodeIndex = opcode(c); o.inputs = ins; o.outputs = outs
    if otype: o.builtinOptionsType = otype; o.builtinOptions = opts
    return o
zero = tensor('zero', [1], [0.0])
new, nprelu, ndeq = [], 0, 0
for o in g.operators:
    c = code(m.operatorCodes[o.opcodeIndex])
    if c == S.BuiltinOperator.DEQUANTIZE:
        ti, to = g.tensors[o.inputs[0]], g.tensors[o.outputs[0]]
        d = np.frombuffer(bytes(bytearray(m.buffers[ti.buffer].data)), '<f2').astype('<f4')
        b = S.BufferT(); b.data = np.frombuffer(d.tobytes(), np.uint8); m.buffers.append(b); to.buffer = len(m.buffers) - 1; ndeq += 1
    elif c == S.BuiltinOperator.PRELU:
        x, alpha = o.inputs; out = o.outputs[0]; shp = list(g.tensors[x].shape); n = g.tensors[out].name.decode()
        p, q, r = tensor(n + '/pos', shp), tensor(n + '/neg', shp), tensor(n + '/negs', shp)
        new += [op(S.BuiltinOperator.MAXIMUM, [x, zero], [p], S.BuiltinOptions.MaximumMinimumOptions, S.MaximumMinimumOptionsT()),
                op(S.BuiltinOperator.MINIMUM, [x, zero], [q], S.BuiltinOptions.MaximumMinimumOptions, S.MaximumMinimumOptionsT()),
                op(S.BuiltinOperator.MUL, [q, alpha], [r], S.BuiltinOptions.MulOptions, S.MulOptionsT()),
                op(S.BuiltinOperator.ADD, [p, r], [out], S.BuiltinOptions.AddOptions, S.AddOptionsT())]
        nprelu += 1
    else:
        new.append(o)
g.operators = new
print(f'folded {ndeq} DEQUANTIZE, rewrote {nprelu} PRELU')
fb = flatbuffers.Builder(0); fb.Finish(m.Pack(fb), file_identifier=b'TFL3'); open(dst, 'wb').write(fb.Output())
