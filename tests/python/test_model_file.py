"""The Python checks of the project (run by .ci/run; they need `pip install numpy safetensors`,
and test_onnx.py also `onnx onnxruntime`):

    cargo build && python3 -m unittest discover -s tests/python -v

A model saved by `backprop train` and read by NumPy + safetensors alone (check_model.py) gives
exactly the accuracy `backprop evaluate` reports. The binary is $BACKPROP, else target/debug/backprop
(`cargo build` makes it). These checks live outside `cargo test` so that `cargo test` needs nothing
but the Rust toolchain.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("BACKPROP", str(ROOT / "target" / "debug" / "backprop"))


def backprop(*args):
    return subprocess.run([BINARY, *args], check=True, capture_output=True, text=True).stdout


class NumpyRecomputesTheAccuracy(unittest.TestCase):
    def test_numpy_and_evaluate_agree(self):
        with tempfile.TemporaryDirectory() as tmp:
            model = str(Path(tmp) / "m.safetensors")
            backprop("train", "--epochs", "3", "--quiet", "--seed", "5", "--save", model)
            ours = json.loads(backprop("evaluate", "--json", "--model", model))
            theirs = subprocess.run(
                [sys.executable, str(Path(__file__).parent / "check_model.py"), model,
                 str(ROOT / "crates" / "backprop" / "data" / "mnist-10k")],
                check=True, capture_output=True, text=True,
            )
            theirs = json.loads(theirs.stdout)
            self.assertEqual(theirs["total"], ours["total"])
            self.assertEqual(theirs["correct"], ours["correct"], "NumPy and backprop disagree")


if __name__ == "__main__":
    unittest.main()
