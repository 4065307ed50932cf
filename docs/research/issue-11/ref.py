import sys, numpy as np
from ai_edge_litert.interpreter import Interpreter
x = np.fromfile('dump/input_nhwc.f32', dtype='<f4').reshape(1,192,192,3)
ours = np.fromfile('dump/out_pts.f32', dtype='<f4')
for path in sys.argv[1:]:
    it = Interpreter(model_path=path); it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]['index'], x); it.invoke()
    od = it.get_output_details()
    pts = it.get_tensor(od[0]['index']).reshape(-1)[:1404]; flag = it.get_tensor(od[-1]['index']).reshape(-1)[0]
    d = np.abs(pts - ours[:1404]).reshape(-1,3)
    print(path, 'flag', flag, 'vs ours', ours[-1], '| max |dxy| px', d[:,:2].max(), 'mean', d[:,:2].mean(), 'max dz', d[:,2].max())
