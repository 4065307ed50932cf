import sys, tflite, collections
opnames = {v:k for k,v in tflite.BuiltinOperator.__dict__.items() if not k.startswith('_')}
ttypes = {v:k for k,v in tflite.TensorType.__dict__.items() if not k.startswith('_')}
for path in sys.argv[1:]:
    buf = open(path,'rb').read()
    m = tflite.Model.GetRootAsModel(buf, 0)
    g = m.Subgraphs(0)
    ops = collections.Counter()
    for i in range(g.OperatorsLength()):
        op = g.Operators(i); oc = m.OperatorCodes(op.OpcodeIndex())
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        name = opnames.get(code, code)
        if name == 'CUSTOM': name = 'CUSTOM:' + oc.CustomCode().decode()
        ops[name]+=1
    def t(i):
        tt = g.Tensors(i); return f"{tt.Name().decode()} {tt.ShapeAsNumpy().tolist()} {ttypes[tt.Type()]}"
    print("==", path, "subgraphs", m.SubgraphsLength())
    print(" inputs:", [t(g.Inputs(i)) for i in range(g.InputsLength())])
    print(" outputs:", [t(g.Outputs(i)) for i in range(g.OutputsLength())])
    print(" ops:", dict(ops))
    md = [m.Metadata(i).Name().decode() for i in range(m.MetadataLength())]
    print(" metadata:", md)
