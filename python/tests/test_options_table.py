"""The table of training options that every front runs (tests/fronts/train_options.json), through
Python's keywords: `Network.train` on 32 examples must write the settings each case expects into
its model file, hold out a validation split when expected, or raise with the case's words (the
library and the command line run the same table)."""

import json
import pathlib
import struct

import numpy as np
import pytest

import backprop

TABLE = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fronts" / "train_options.json"
CASES = json.loads(TABLE.read_text())["cases"]
X = np.random.default_rng(0).random((32, 4), dtype=np.float32)
Y = np.arange(32) % 2


def metadata(path, key):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(json.loads(raw[8 : 8 + n])["__metadata__"][key])


@pytest.mark.parametrize("case", CASES, ids=[json.dumps(c["given"]) for c in CASES])
def test_every_case_of_the_table(case, tmp_path):
    given = dict(case["given"])
    net = backprop.Network([4, 3, 2])
    if "error" in case:
        with pytest.raises((ValueError, TypeError)) as e:
            net.train(X, Y, epochs=2, **given)
        assert case["error"] in str(e.value)
        return
    reports = net.train(X, Y, epochs=2, **given)
    net.save(tmp_path / "m.safetensors")
    training = metadata(tmp_path / "m.safetensors", "training")
    for key, want in case.get("settings", {}).items():
        assert training[key] == want, (key, training)
    if "validation" in case:
        held = reports[-1].get("validation_accuracy") is not None
        assert held == case["validation"], reports[-1]
