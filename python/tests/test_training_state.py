"""What a Network or a Trainer shows while it trains, and what it refuses then (issue 22):
one training at a time per Network, no writes while it trains, the network published after every
epoch (to the callback and to other threads), the Trainer's progress, divergence."""

import threading
import time

import numpy as np
import pytest

import backprop

X = np.random.default_rng(0).random((50, 4), dtype=np.float32)
Y = np.arange(50) % 3


def net():
    return backprop.Network([4, 5, 3])


def training_paused_in_its_callback(n, epochs=3):
    """Starts `n.train` in a thread whose callback waits after epoch 1; returns (thread, release,
    results), `results` holding the reports or the exception when the thread ends."""
    paused, release, results = threading.Event(), threading.Event(), []

    def callback(report):
        if report["epoch"] == 1:
            paused.set()
            assert release.wait(10)

    def work():
        try:
            results.append(n.train(X, Y, epochs=epochs, callback=callback))
        except Exception as e:  # noqa: BLE001
            results.append(e)

    t = threading.Thread(target=work)
    t.start()
    assert paused.wait(10)
    return t, release, results


def test_a_second_training_of_the_same_network_is_refused_while_the_first_runs():
    n = net()
    t, release, results = training_paused_in_its_callback(n, epochs=40)
    with pytest.raises(RuntimeError, match="already training"):
        n.train(X, Y, epochs=2)
    release.set()
    t.join()
    twin = net()
    expected = twin.train(X, Y, epochs=40)
    assert [r["train_cost"] for r in results[0]] == [r["train_cost"] for r in expected]
    for a, b in zip(n.weights, twin.weights):
        np.testing.assert_array_equal(a, b)
    n.train(X, Y, epochs=1)  # free again once it has returned


@pytest.mark.parametrize("write", [
    lambda n: setattr(n, "weights", [w * 0 for w in n.weights]),
    lambda n: setattr(n, "biases", [b * 0 for b in n.biases]),
])
def test_writes_are_refused_while_the_network_trains(write):
    n = net()
    t, release, _ = training_paused_in_its_callback(n)
    with pytest.raises(RuntimeError, match="while it trains"):
        write(n)
    release.set()
    t.join()
    write(n)  # allowed again
    assert not any(w.any() for w in n.weights) or not any(b.any() for b in n.biases)


def test_a_write_from_the_callback_is_refused_and_stops_training():
    n = net()
    before = [w.copy() for w in n.weights]

    def callback(report):
        n.weights = [w * 0 for w in n.weights]

    with pytest.raises(RuntimeError, match="while it trains"):
        n.train(X, Y, epochs=3, callback=callback)
    for a, b in zip(n.weights, before):  # an exception leaves the network as it was
        np.testing.assert_array_equal(a, b)


def test_threads_training_the_same_network_either_train_or_are_refused():
    n = net()
    done, refused = [], []

    def work():
        try:
            done.append(len(n.train(X, Y, epochs=20)))
        except RuntimeError as e:
            refused.append(str(e))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) + len(refused) == 4 and done
    assert all("already training" in m for m in refused)
    twin = net()
    for _ in done:  # each accepted run continued from the one before it
        twin.train(X, Y, epochs=20)
    for a, b in zip(n.weights, twin.weights):
        np.testing.assert_array_equal(a, b)


def test_the_callback_sees_the_network_after_each_epoch(tmp_path):
    n = net()
    seen = []

    def callback(report):
        path = tmp_path / f"e{report['epoch']}.safetensors"
        n.save(path)
        seen.append(([w.copy() for w in n.weights], backprop.load(path).weights))

    n.train(X, Y, epochs=3, callback=callback)
    for epoch, (weights, saved) in enumerate(seen, 1):
        twin = net()
        twin.train(X, Y, epochs=epoch)  # the first `epoch` epochs of the same run
        for a, b, c in zip(weights, saved, twin.weights):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(b, c)
    assert not np.array_equal(seen[0][0][0], seen[1][0][0])


def test_another_thread_reads_the_last_finished_epoch():
    n = net()
    start = [w.copy() for w in n.weights]
    t, release, _ = training_paused_in_its_callback(n)
    during = [w.copy() for w in n.weights]
    release.set()
    t.join()
    twin = net()
    twin.train(X, Y, epochs=1)
    for a, b, c in zip(during, twin.weights, start):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_trainer_epoch_shows_progress_while_it_runs():
    Xb = np.random.default_rng(1).random((2000, 20), dtype=np.float32)
    yb = np.arange(2000) % 10
    n = backprop.Network([20, 30, 10])
    trainer = backprop._native.Trainer(n, batch_size=10, eta=0.5, threads=1)
    data = backprop._native.Data(Xb, yb, 10)
    seen = []
    t = threading.Thread(target=trainer.run, args=(data, 400))
    t.start()
    while t.is_alive():
        seen.append(trainer.epoch)
        time.sleep(0.001)
    t.join()
    assert trainer.epoch == 400
    assert seen == sorted(seen)
    assert any(0 < e < 400 for e in seen)


@pytest.mark.parametrize("dtype,optimizer", [("float32", "adam"), ("float64", "nesterov"), ("float32", "sgd")])
def test_a_pickled_trainer_runs_on_as_without_the_round_trip(dtype, optimizer):
    import pickle

    data = backprop._native.Data(X, Y, 3)
    kw = {"optimizer": optimizer, "lambda": 0.1}
    a = backprop._native.Trainer(backprop.Network([4, 5, 3], dtype=dtype), batch_size=7, eta=0.05, **kw)
    a.run(data, 2)
    b = pickle.loads(pickle.dumps(a))
    assert b.epoch == 2
    assert [r["train_cost"] for r in a.run(data, 3)] == [r["train_cost"] for r in b.run(data, 3)]
    for p, q in zip(a.network.weights + a.network.biases, b.network.weights + b.network.biases):
        assert p.dtype == q.dtype == dtype
        np.testing.assert_array_equal(p, q)


def test_a_damaged_trainer_pickle_is_a_value_error():
    t = backprop._native.Trainer(net(), optimizer="adam")
    rebuild, (network, *args, state) = t.__reduce__()
    for key, value in [("first_w", [np.zeros((2, 2)), np.zeros((3, 5))]), ("second_b", []),
                       ("version", 99), ("eta", float("nan"))]:
        bad = dict(state, **{key: value})
        with pytest.raises(ValueError, match="pickled backprop Trainer"):
            rebuild(network, *args, bad)
    del state["step"]
    with pytest.raises(ValueError, match="no `step`"):
        rebuild(network, *args, state)
def test_divergence_raises_floating_point_error_and_keeps_the_network():
    n = backprop.Network([4, 8, 3], activation="identity", output_activation="softmax",
                         cost="log-likelihood")
    before = [w.copy() for w in n.weights]
    seen = []
    with pytest.raises(FloatingPointError, match="diverged in epoch 2: the weights or biases of layer 2"):
        n.train(X, Y, epochs=30, eta=1000.0,
                callback=lambda r: seen.append(all(np.isfinite(w).all() for w in n.weights)))
    assert seen == [True]  # the callback is shown finite networks only
    for a, b in zip(n.weights, before):  # and the network is as before the call
        np.testing.assert_array_equal(a, b)
    trainer = backprop._native.Trainer(n, eta=1000.0)
    trainer.run(backprop._native.Data(X, Y, 3), 1)
    with pytest.raises(FloatingPointError, match="diverged"):
        trainer.run(backprop._native.Data(X, Y, 3), 5)
    assert trainer.epoch == 1 and all(np.isfinite(w).all() for w in trainer.network.weights)


def test_non_finite_outputs_raise_instead_of_predicting():
    n = backprop.Network([4, 5, 3], activation="relu", output_activation="softmax",
                         cost="log-likelihood")
    n.weights = [np.full(w.shape, 3e38, dtype=np.float32) for w in n.weights]
    for call in (lambda: n.feedforward(X), lambda: n.feedforward(X[0]), lambda: n.evaluate(X, Y)):
        with pytest.raises((ValueError, FloatingPointError), match="layer"):
            call()
    # Found by attacking it: a ReLU output turns the NaN of an overflowed layer below into 0.
    r = backprop.Network([4, 5, 3], activation="relu", output_activation="relu")
    r.weights = [np.full(r.weights[0].shape, 3e38, dtype=np.float32), r.weights[1]]
    for call in (lambda: r.feedforward(X), lambda: r.feedforward(X[0]), lambda: r.evaluate(X, Y)):
        with pytest.raises((ValueError, FloatingPointError), match=r"a\^\(2\)"):
            call()


def test_eta_defaults_to_the_rule_adam_0_001_and_the_lecture_3():
    """Adam at the lecture's eta = 3 ends at chance; without eta each rule gets its own default,
    as `backprop train` does (issue 26)."""
    rng = np.random.default_rng(0)
    x = rng.random((50, 784), dtype=np.float32) * 0.05
    y = rng.integers(0, 10, 50)
    net = backprop.Network([784, 10, 10], seed=1)
    assert net.train(x, y, epochs=1, optimizer="adam")[0]["eta"] == 0.001
    assert net.train(x, y, epochs=1)[0]["eta"] == 3.0
    assert net.train(x, y, epochs=1, optimizer="adam", eta=0.01)[0]["eta"] == 0.01


def test_a_model_saved_after_training_says_how_it_was_trained(tmp_path):
    """The `training` metadata the command line writes (issue 26): the settings, the data and
    the initialisation, so that the ONNX export carries them too."""
    import json
    import struct

    rng = np.random.default_rng(0)
    x = rng.random((40, 784), dtype=np.float32) * 0.05
    y = rng.integers(0, 10, 40)
    net = backprop.Network([784, 10, 10], init="scaled", seed=1)
    path = tmp_path / "m.safetensors"

    def metadata():
        raw = path.read_bytes()
        (n,) = struct.unpack("<Q", raw[:8])
        return json.loads(raw[8:8 + n]).get("__metadata__", {})

    net.save(str(path))
    assert "training" not in metadata()
    net.train(x, y, epochs=2, batch_size=8, optimizer="adam", seed=3)
    net.save(str(path))
    training = json.loads(metadata()["training"])
    assert training["epochs"] == 2 and training["batch_size"] == 8 and training["seed"] == 3
    assert training["eta"] == 0.001 and training["init"] == "scaled"
    assert "40 examples" in training["data"]


def test_a_save_from_the_callback_has_the_settings_of_the_training_in_progress(tmp_path):
    """Found by attacking it: the callback's save paired the epoch's weights with the previous
    training's settings; a failed training puts the old ones back."""
    import json
    import struct

    def training_of(path):
        raw = path.read_bytes()
        (n,) = struct.unpack("<Q", raw[:8])
        return json.loads(json.loads(raw[8:8 + n])["__metadata__"]["training"])

    rng = np.random.default_rng(1)
    x = rng.random((40, 784), dtype=np.float32) * 0.05
    y = rng.integers(0, 10, 40)
    net = backprop.Network([784, 10, 10], seed=1)
    net.train(x, y, epochs=1, eta=0.5)
    inside = tmp_path / "inside.safetensors"
    net.train(x, y, epochs=2, eta=0.7, callback=lambda m: net.save(str(inside)))
    assert training_of(inside)["eta"] == 0.7

    def fail(_metrics):
        raise ValueError("stop")

    with pytest.raises(ValueError):
        net.train(x, y, epochs=2, eta=0.9, callback=fail)
    after = tmp_path / "after.safetensors"
    net.save(str(after))
    assert training_of(after)["eta"] == 0.7
