"""OpenCV's Haar-cascade frontal face detector on the given images, for the side-by-side in
`cargo bench -p doorstep-photo`. One JSON line per image: file, faces, median milliseconds.
Single-threaded, like doorstep's detector. Needs opencv-python-headless (scripts/bench-photo)."""
import json
import statistics
import sys
import time

import cv2

cv2.setNumThreads(1)
rounds = int(sys.argv[1])
cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
print(json.dumps({"opencv": cv2.__version__}), flush=True)
for path in sys.argv[2:]:
    grey = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2GRAY)
    times, faces = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(40, 40))
        times.append((time.perf_counter() - t) * 1e3)
    print(json.dumps({"file": path, "faces": len(faces), "ms": statistics.median(times)}), flush=True)
