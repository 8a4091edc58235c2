"""Bad input raises the right Python exception, with a message naming the problem; Ctrl-C and
other threads are served while training runs."""

import os
import signal
import threading
import time

import numpy as np
import pytest

import backprop

X = np.random.default_rng(0).random((50, 4), dtype=np.float32)
Y = np.arange(50) % 3


def net():
    return backprop.Network([4, 5, 3])


@pytest.mark.parametrize("call,exc,words", [
    (lambda: backprop.Network([4]), ValueError, "at least two layers"),
    (lambda: backprop.Network([4, 0, 3]), ValueError, "layer 2 has no neurons"),
    (lambda: backprop.Network([4, 3], activation="swish"), ValueError, "unknown activation `swish`"),
    (lambda: backprop.Network([4, 3], cost="hinge"), ValueError, "unknown cost `hinge`"),
    (lambda: backprop.Network([4, 3], init="xavier"), ValueError, "unknown init"),
    (lambda: backprop.Network([4, 3], dtype="float16"), ValueError, "unknown dtype"),
    (lambda: backprop.Network([4, 5, 3], activation="softmax"), ValueError, "softmax"),
    (lambda: backprop.Network([4, 3], output_activation="identity", cost="log-likelihood"), ValueError, "log-likelihood"),
    (lambda: backprop.Network([784, 2_000_000_000, 10]), ValueError, "at most 1 GiB"),
    (lambda: backprop.Network([-1, 3]), OverflowError, ""),
    (lambda: net().feedforward(np.zeros(5)), ValueError, "5 values but the first layer has 4"),
    (lambda: net().feedforward(np.zeros((2, 2, 4))), ValueError, "shape [2, 2, 4]"),
    (lambda: net().feedforward(np.float32(1.0)), ValueError, "shape []"),
    (lambda: net().feedforward(np.array([np.nan, 0, 0, 0])), ValueError, "non-finite value (NaN)"),
    (lambda: net().feedforward(np.array(["a", "b", "c", "d"])), TypeError, "must hold numbers"),
    (lambda: net().feedforward(None), TypeError, "None"),
    (lambda: net().train(X[:0], Y[:0]), ValueError, "X is empty"),
    (lambda: net().train(X, Y[:10]), ValueError, "X has 50 rows but y has 10 labels"),
    (lambda: net().train(X, Y + 5), ValueError, "out of range for an output layer of 3 neurons"),
    (lambda: net().train(X, Y - 1), ValueError, "label -1"),
    (lambda: net().train(X, Y + 0.5), ValueError, "whole numbers"),
    (lambda: net().train(X, np.where(Y == 0, np.inf, Y)), ValueError, "whole numbers"),
    (lambda: net().train(np.where(X > 0.5, np.inf, X), Y), ValueError, "non-finite value (inf)"),
    (lambda: net().train(X, Y, eta=-1), ValueError, "learning rate"),
    (lambda: net().train(X, Y, batch_size=0), ValueError, "mini-batch size"),
    (lambda: net().train(X, Y, epochs=0), ValueError, "epochs"),
    (lambda: net().train(X, Y, dropout=1.0), ValueError, "dropout"),
    (lambda: net().train(X, Y, optimizer="rmsprop"), ValueError, "unknown optimizer `rmsprop`"),
    (lambda: net().train(X, Y, optimizer="adam", momentum=0.5), ValueError, "momentum applies"),
    (lambda: net().train(X, Y, schedule="cosine"), ValueError, "schedule"),
    (lambda: net().train(X, Y, learning_rate=1.0), TypeError, "unexpected keyword argument 'learning_rate'"),
    (lambda: net().train(X, Y, momentum="lots"), TypeError, "momentum"),
    (lambda: net().train(X, Y, test=X), TypeError, "tuple (X_test, y_test)"),
    (lambda: net().train(X, Y, early_stop=1, validation=50), ValueError, "nothing would be left"),
    (lambda: net().train(X, Y, threads=100000), ValueError, "thread"),
    (lambda: net().train(X, np.zeros((50, 2))), ValueError, "2 values per example"),
    (lambda: backprop.Network([4, 5, 3], cost="cross-entropy").train(X, np.full((50, 3), 1.5)),
     ValueError, "target value 1.5 outside [0, 1]"),
    (lambda: backprop.Network([4, 5, 3], output_activation="softmax", cost="log-likelihood")
     .train(X, np.full((50, 3), 0.5)), ValueError, "sum to 1.5"),
    (lambda: net().trace(X[0], 3), ValueError, "label 3"),
    (lambda: net().trace(X[0], np.zeros(2)), ValueError, "the target has 2 values"),
    (lambda: net().backprop(X[0][:3], 0), ValueError, "3 values but the first layer has 4"),
    (lambda: setattr(net(), "weights", [np.zeros((5, 4))]), ValueError, "2 weight matrices"),
    (lambda: setattr(net(), "weights", [np.zeros((4, 5)), np.zeros((3, 5))]), ValueError, "layer 2"),
    (lambda: setattr(net(), "biases", 3), TypeError, "list of arrays"),
    (lambda: net().gradient_check(X[:2], Y[:2], step=0), ValueError, "step"),
    (lambda: net().gradient_check(np.zeros((2000, 4)), np.zeros(2000)), ValueError, "examples"),
    (lambda: backprop.load("/nonexistent/m.safetensors"), FileNotFoundError, "/nonexistent/m.safetensors"),
    (lambda: backprop.load("/"), OSError, "/"),
    (lambda: backprop.load("/dev/null"), ValueError, "/dev/null"),
    (lambda: net().save("/nonexistent/dir/m.safetensors"), FileNotFoundError, "/nonexistent/dir"),
    (lambda: net().save("/"), OSError, "/"),
    (lambda: backprop.set_threads(0), ValueError, "thread"),
])
def test_bad_input_raises_a_python_exception_naming_the_problem(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_a_file_that_is_not_a_model(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(ValueError, match="bad.safetensors"):
        backprop.load(bad)


def test_float32_c_contiguous_input_is_read_in_place_and_others_are_converted():
    n = net()
    Xf = np.asfortranarray(X)
    Xs = np.repeat(X, 2, axis=1)[:, ::2]  # a strided view
    a = n.evaluate(X, Y)
    assert n.evaluate(Xf, Y) == a and n.evaluate(Xs, Y) == a
    assert n.evaluate(X.astype(np.float64), list(Y)) == a
    ro = X.copy()
    ro.setflags(write=False)
    assert n.evaluate(ro, Y) == a


def test_the_gil_is_released_while_training():
    Xb = np.random.default_rng(1).random((20000, 100), dtype=np.float32)
    yb = np.arange(20000) % 10
    n = backprop.Network([100, 200, 10])
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    t = threading.Thread(target=ticker)
    t.start()
    start = time.perf_counter()
    n.train(Xb, yb, epochs=3, threads=1)
    elapsed = time.perf_counter() - start
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < start + elapsed]
    assert elapsed < 0.05 or len(during) > elapsed / 0.005 / 4


def test_ctrl_c_raises_keyboard_interrupt_and_keeps_the_network():
    Xb = np.random.default_rng(1).random((50000, 100), dtype=np.float32)
    yb = np.arange(50000) % 10
    n = backprop.Network([100, 300, 10])
    before = n.weights[0].copy()
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        n.train(Xb, yb, epochs=1000, batch_size=10, threads=1)
    assert time.perf_counter() - start < 5
    np.testing.assert_array_equal(n.weights[0], before)


def test_a_raising_callback_stops_training_with_its_exception():
    def boom(report):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        net().train(X, Y, epochs=5, callback=boom)


def test_estimator_errors():
    sk = pytest.importorskip("sklearn")  # noqa: F841
    from backprop import MLPClassifier, MLPRegressor

    with pytest.raises(ValueError, match="numeric"):
        MLPRegressor(max_iter=2).fit(X, np.array(["a", "b"] * 25))
    with pytest.raises(ValueError, match="unknown activation"):
        MLPClassifier(activation="swish", max_iter=2).fit(X, Y)
    with pytest.raises(ValueError, match="solver"):
        MLPClassifier(solver="lbfgs", max_iter=2).fit(X, Y)
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier(max_iter=2).fit(np.where(X > 0.5, np.nan, X), Y)
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(X, Y)
