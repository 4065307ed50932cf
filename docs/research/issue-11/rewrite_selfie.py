# Replace MediaPipe's custom Convolution2DTransposeBias (2x2, stride 2, 16->1 ch) with
# CONV_2D 1x1 (16->4) + RESHAPE + TRANSPOSE + RESHAPE (pixel shuffle): mathematically identical
# because a 2x2/stride-2 transposed conv has no overlapping taps. Input: DEQUANTIZE-folded model.
import sys, numpy as np, flatbuffers
import schema_py_generated as S
src, dst = sys.argv[1], sys.argv[2]
m = S.ModelT.InitFromObj(S.Model.GetRootAs(open(src, 'rb').read(), 0))
g = m.subgraphs[0]
def opcode(code):
    for i, oc in enumerate(m.operatorCodes):
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code and not oc.customCode: return i
    oc = S.OperatorCodeT(); oc.builtinCode = code; oc.deprecatedBuiltinCode = min(code, 127); oc.version = 1
    m.operatorCodes.append(oc); return len(m.operatorCodes) - 1
def buf(arr):
    b = S.BufferT(); b.data = np.frombuffer(np.ascontiguousarray(arr).tobytes(), dtype=np.uint8); m.buffers.append(b); return len(m.buffers) - 1
def tensor(name, shape, ttype=S.TensorType.FLOAT32, data=None):
    t = S.TensorT(); t.name = name.encode(); t.shape = np.array(shape, dtype=np.int32); t.type = ttype
    t.buffer = buf(data) if data is not None else 0
    g.tensors.append(t); return len(g.tensors) - 1
def getdata(ti, dt='<f4'):
    return np.frombuffer(bytes(bytearray(m.buffers[g.tensors[ti].buffer].data)), dtype=dt)
new_ops = []
for op in g.operators:
    oc = m.operatorCodes[op.opcodeIndex]
    if oc.customCode != b'Convolution2DTransposeBias':
        new_ops.append(op); continue
    x, wk, bi = op.inputs; out = op.outputs[0]
    W = getdata(wk).reshape(1, 2, 2, -1); cin = W.shape[3]; b = getdata(bi)[0]
    H = int(g.tensors[x].shape[1]); Wd = int(g.tensors[x].shape[2])
    w4 = W[0].reshape(4, 1, 1, cin).astype('<f4'); b4 = np.full(4, b, dtype='<f4')
    tw = tensor('ps/w', [4, 1, 1, cin], data=w4); tb = tensor('ps/b', [4], data=b4)
    t1 = tensor('ps/conv', [1, H, Wd, 4])
    c = S.OperatorT(); c.opcodeIndex = opcode(S.BuiltinOperator.CONV_2D); c.inputs = [x, tw, tb]; c.outputs = [t1]
    co = S.Conv2DOptionsT(); co.padding = S.Padding.VALID; co.strideW = co.strideH = 1; co.dilationWFactor = co.dilationHFactor = 1
    c.builtinOptionsType = S.BuiltinOptions.Conv2DOptions; c.builtinOptions = co
    def reshape(inp, shape, name):
        s = tensor(name + '/shape', [len(shape)], S.TensorType.INT32, np.array(shape, dtype='<i4'))
        o = tensor(name, shape); r = S.OperatorT(); r.opcodeIndex = opcode(S.BuiltinOperator.RESHAPE)
        r.inputs = [inp, s]; r.outputs = [o]; ro = S.ReshapeOptionsT(); ro.newShape = list(shape)
        r.builtinOptionsType = S.BuiltinOptions.ReshapeOptions; r.builtinOptions = ro; return r, o
    r1, t2 = reshape(t1, [1, H, Wd, 2, 2], 'ps/r1')
    perm = tensor('ps/perm', [5], S.TensorType.INT32, np.array([0, 1, 3, 2, 4], dtype='<i4'))
    t3 = tensor('ps/t', [1, H, 2, Wd, 2]); tr = S.OperatorT(); tr.opcodeIndex = opcode(S.BuiltinOperator.TRANSPOSE)
    tr.inputs = [t2, perm]; tr.outputs = [t3]; tr.builtinOptionsType = S.BuiltinOptions.TransposeOptions; tr.builtinOptions = S.TransposeOptionsT()
    s2 = tensor('ps/r2/shape', [4], S.TensorType.INT32, np.array([1, 2 * H, 2 * Wd, 1], dtype='<i4'))
    r2 = S.OperatorT(); r2.opcodeIndex = opcode(S.BuiltinOperator.RESHAPE); r2.inputs = [t3, s2]; r2.outputs = [out]
    ro = S.ReshapeOptionsT(); ro.newShape = [1, 2 * H, 2 * Wd, 1]; r2.builtinOptionsType = S.BuiltinOptions.ReshapeOptions; r2.builtinOptions = ro
    new_ops += [c, r1, tr, r2]
    print('replaced', oc.customCode, 'kernel', W.shape, 'bias', b)
g.operators = new_ops
fb = flatbuffers.Builder(0); fb.Finish(m.Pack(fb), file_identifier=b'TFL3'); open(dst, 'wb').write(fb.Output())
