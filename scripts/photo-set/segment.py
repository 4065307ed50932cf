#!/usr/bin/env python3
"""Person masks for the labelled photo set, from a real segmentation model.

MediaPipe's selfie segmentation (`selfie_segmentation.tflite`, Apache-2.0, in the PyPI wheel
mediapipe==0.10.14 at mediapipe/modules/selfie_segmentation/) is run with Google's own TFLite
runtime (PyPI ai-edge-litert) on a square around each portrait's head and shoulders, and the
person's probability is written as an 8-bit PNG the size of the portrait (0 outside the square)
to tests/data/photos/masks/NAME.png. The Rust example make_test_set composes the compliant
photos and near-misses from them.

    python3 -m venv /tmp/seg && /tmp/seg/bin/pip install ai-edge-litert==2.3.0 pillow numpy
    pip download mediapipe==0.10.14 --no-deps -d /tmp/seg/wheel   # then unzip the .tflite
    # The shipped file uses MediaPipe's custom operator Convolution2DTransposeBias;
    # docs/research/issue-11/rewrite_selfie.py replaces it with an exact equivalent.
    /tmp/seg/bin/python scripts/photo-set/segment.py selfie_seg_rewritten.tflite tests/data/photos

Deterministic: the same model and portraits give the same masks.
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from ai_edge_litert.interpreter import Interpreter

# The hand-marked eye centres of make_test_set.rs (image left eye, image right eye).
EYES = {
    "astronaut.png": ((200.5, 99.5), (243.5, 101.5)),
    "grace_hopper.jpg": ((220.0, 190.0), (301.5, 186.5)),
    "whitehouse_1.jpg": ((442.0, 211.0), (540.0, 210.0)),
    "whitehouse_2.jpg": ((246.5, 364.5), (361.5, 375.5)),
    "whitehouse_3.jpg": ((735.0, 383.0), (851.5, 395.5)),
    "whitehouse_4.jpg": ((529.0, 325.0), (643.5, 346.5)),
    "fer_author.jpg": ((148.5, 156.5), (219.0, 158.0)),
    "mahotas_author.jpg": ((64.0, 169.0), (138.0, 157.0)),
}


def main():
    model, root = sys.argv[1], Path(sys.argv[2])
    it = Interpreter(model_path=model)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    (root / "masks").mkdir(exist_ok=True)
    for name, (l, r) in EYES.items():
        img = Image.open(root / "real" / name).convert("RGB")
        d = ((r[0] - l[0]) ** 2 + (r[1] - l[1]) ** 2) ** 0.5
        cx, cy = (l[0] + r[0]) / 2, (l[1] + r[1]) / 2 + 1.2 * d
        side = 6.0 * d
        box = (round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2))
        crop = img.crop(box)  # black outside the portrait
        x = np.asarray(crop.resize((256, 256), Image.BILINEAR), dtype=np.float32)[None] / 255.0
        it.set_tensor(inp["index"], x)
        it.invoke()
        m = it.get_tensor(out["index"])[0, :, :, 0]
        small = Image.fromarray(np.clip(m * 255.0 + 0.5, 0, 255).astype(np.uint8))
        big = small.resize(crop.size, Image.BILINEAR)
        mask = Image.new("L", img.size, 0)
        mask.paste(big, (box[0], box[1]))
        mask.save(root / "masks" / (Path(name).stem + ".png"), optimize=True)
        print(name, "mask", mask.size)


if __name__ == "__main__":
    main()
