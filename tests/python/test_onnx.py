"""The ONNX export (issue 13), checked by ONNX's own tools (needs `pip install numpy safetensors
onnx onnxruntime`; skipped with a message when they are missing, so `cargo test`-only machines
are not affected):

    cargo build && python3 -m unittest tests/python/test_onnx.py -v

For every hidden × output activation the command line offers, a quick model is trained by
`backprop train`, exported by `backprop export`, and then
- `onnx.checker.check_model(full_check=True)` passes (with shape inference);
- ONNX Runtime's outputs on the 2,000 test digits of the embedded set equal our forward pass
  (recomputed from the safetensors file with NumPy, as check_model.py does) within 1e-5;
- their arg-max gives exactly `backprop evaluate`'s correct count.
"""
import json
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
    from safetensors import safe_open

    from check_model import activation as sigma, idx  # the NumPy check's reader and σ
    MISSING = None
except ImportError as e:  # pragma: no cover - depends on the machine
    MISSING = f"{e.name} is not installed (pip install numpy safetensors onnx onnxruntime)"

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("BACKPROP", str(ROOT / "target" / "debug" / "backprop"))
HIDDEN = ["sigmoid", "tanh", "relu", "identity"]
OUTPUT = ["sigmoid", "tanh", "relu", "identity", "softmax"]
TOLERANCE = 1e-5


def backprop(*args):
    return subprocess.run([BINARY, *args], check=True, capture_output=True, text=True).stdout


def data_dir():
    """The embedded digits: crates/backprop/data/mnist-10k."""
    return ROOT / "crates" / "backprop" / "data" / "mnist-10k"


def test_digits():
    """The test split of mnist-10k (the last 2,000), as float32 in [0, 1], one per row."""
    images = idx(data_dir() / "images-idx3-ubyte.gz").reshape(10000, -1)[8000:]
    return images.astype(np.float32) / np.float32(255)


def forward(model_path, x):
    """a^(L) of the safetensors model for each row of x, in float32 like the library."""
    with safe_open(model_path, framework="np") as f:
        meta = f.metadata()
        sizes = [int(s) for s in meta["sizes"].split(",")]
        a = x
        for l in range(2, len(sizes) + 1):
            w, b = f.get_tensor(f"layers.{l}.weight"), f.get_tensor(f"layers.{l}.bias")
            name = meta["output_activation"] if l == len(sizes) else meta["hidden_activation"]
            a = sigma(name, a @ w.T + b)  # z = W a + b, one example per row
    return a


@unittest.skipIf(MISSING, MISSING)
class OnnxRuntimeRunsTheExport(unittest.TestCase):
    def test_every_activation_pair(self):
        x = test_digits()
        with tempfile.TemporaryDirectory() as tmp:
            for hidden in HIDDEN:
                for output in OUTPUT:
                    with self.subTest(hidden=hidden, output=output):
                        self.check_pair(Path(tmp), hidden, output, x)

    def check_pair(self, tmp, hidden, output, x):
        model = str(tmp / f"{hidden}-{output}.safetensors")
        exported = str(tmp / f"{hidden}-{output}.onnx")
        cost = "log-likelihood" if output == "softmax" else "quadratic"
        # η = 0.03: small enough that no pair diverges or leaves a ReLU output dead.
        backprop("train", "--quiet", "--epochs", "1", "--layers", "784,16,10", "--init", "scaled",
                 "--eta", "0.03", "--activation", hidden, "--output-activation", output,
                 "--cost", cost, "--seed", "3", "--save", model)
        backprop("export", "--model", model, "--out", exported)

        proto = onnx.load(exported)
        onnx.checker.check_model(proto, full_check=True)
        self.assertEqual([(o.domain, o.version) for o in proto.opset_import], [("", 13)])
        self.assertEqual([i.name for i in proto.graph.input], ["input"])
        self.assertEqual([o.name for o in proto.graph.output], ["output"])
        meta = {p.key: p.value for p in proto.metadata_props}
        self.assertEqual(meta["hidden_activation"], hidden)
        self.assertEqual(meta["output_activation"], output)
        self.assertIn("training", meta)

        session = ort.InferenceSession(exported, providers=["CPUExecutionProvider"])
        theirs = session.run(["output"], {"input": x})[0]
        ours = forward(model, x)
        self.assertEqual(theirs.shape, (2000, 10))
        worst = float(np.max(np.abs(theirs - ours)))
        self.assertLessEqual(worst, TOLERANCE, "ONNX Runtime and our forward pass differ")

        evaluated = json.loads(backprop("evaluate", "--json", "--model", model))
        correct = int((theirs.argmax(axis=1) == idx(data_dir() / "labels-idx1-ubyte.gz")[8000:]).sum())
        self.assertEqual(evaluated["total"], 2000)
        self.assertEqual(correct, evaluated["correct"], "ONNX Runtime and `evaluate` disagree")


if __name__ == "__main__":
    unittest.main()
