"""Line images with a frame around them, as users crop snippets: each line of a split cut as
training cuts it (its polygon), then given whole with W pixels of white paper around it, or a
dark border (a viewer's background), and read with `Recognizer.recognize` by best path: the
CER of each kind (BENCHMARKS.md, "A frame around a line image"):

    python bench/frames.py ../shared/data/hooker/test.txt 300 [MODEL]
"""

import numpy as np
from usage import arguments

from inkread import Recognizer
from inkread.data import Skipped, line_images, read_data
from inkread.decoding import greedy
from inkread.metrics import char_errors

args = arguments(__doc__, 2)
lines, _ = read_data([args[0]])
lines = [x for x in lines if x.text][: int(args[1])]
model = Recognizer.load(args[2] if len(args) > 2 else "default", "cpu")
crops = [(line.text, crop) for line, crop in line_images(lines, Skipped())]
kinds = {
    "as cut": lambda c: c,
    "white 8": lambda c: np.pad(c, 8, constant_values=255),
    "white 16": lambda c: np.pad(c, 16, constant_values=255),
    "white 40": lambda c: np.pad(c, 40, constant_values=255),
    "white 16 + black 1": lambda c: np.pad(np.pad(c, 16, constant_values=255), 1),
    "dark 24": lambda c: np.pad(c, 24, constant_values=40),
}
print("| line image | CER |\n|---|---|")
for name, frame in kinds.items():
    read = model.recognize([frame(c) for _, c in crops], 16, greedy)
    errors = sum(char_errors(r.text, t) for r, (t, _) in zip(read, crops))
    print(f"| {name} | {errors / sum(len(t) for t, _ in crops):.2%} |")
