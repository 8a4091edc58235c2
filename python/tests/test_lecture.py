"""The lecture's level: shapes, back-propagation against finite differences and against the
command line's `trace --json`, model files shared with the command line."""

import json
import subprocess

import numpy as np
import pytest

import backprop

X_TRAIN, Y_TRAIN, X_TEST, Y_TEST = backprop.datasets.mnist_10k()


def test_mnist_10k_is_split_as_the_cli_splits_it():
    assert X_TRAIN.shape == (8000, 784) and X_TEST.shape == (2000, 784)
    assert X_TRAIN.dtype == np.float32 and Y_TRAIN.dtype == np.int64
    assert 0.0 <= X_TRAIN.min() and X_TRAIN.max() <= 1.0
    assert set(np.unique(Y_TRAIN)) == set(range(10))


def test_shapes_follow_the_lecture():
    net = backprop.Network([4, 3, 2])
    assert net.sizes == [4, 3, 2]
    assert [w.shape for w in net.weights] == [(3, 4), (2, 3)]
    assert [b.shape for b in net.biases] == [(3,), (2,)]
    assert net.feedforward(np.zeros(4)).shape == (2,)
    assert net.feedforward(np.zeros((5, 4))).shape == (5, 2)
    nabla_b, nabla_w = net.backprop(np.ones(4), 1)
    assert [b.shape for b in nabla_b] == [(3,), (2,)]
    assert [w.shape for w in nabla_w] == [(3, 4), (2, 3)]


def test_weights_are_settable_and_feedforward_computes_sigma_of_wa_plus_b():
    net = backprop.Network([2, 2, 1], dtype="float64")
    net.weights = [np.array([[1.0, -1.0], [0.5, 0.25]]), np.array([[2.0, -3.0]])]
    net.biases = [np.array([0.1, -0.2]), np.array([0.3])]
    x = np.array([0.4, 0.7])
    sigma = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    a2 = sigma(net.weights[0] @ x + net.biases[0])
    a3 = sigma(net.weights[1] @ a2 + net.biases[1])
    np.testing.assert_allclose(net.feedforward(x), a3, rtol=1e-15)


def _cost(net, x, y):
    a = net.feedforward(x)
    if net.cost == "quadratic":
        return 0.5 * np.sum((a - y) ** 2)
    if net.cost == "cross-entropy":
        return -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a))
    return -np.sum(y * np.log(a))


@pytest.mark.parametrize("activation,output,cost", [
    ("sigmoid", "sigmoid", "quadratic"),
    ("tanh", "sigmoid", "cross-entropy"),
    ("sigmoid", "softmax", "log-likelihood"),
    ("tanh", "identity", "quadratic"),
])
def test_backprop_and_trace_agree_with_finite_differences(activation, output, cost):
    rng = np.random.default_rng(1)
    net = backprop.Network([5, 4, 3, 3], activation=activation, output_activation=output,
                           cost=cost, init="scaled", seed=3, dtype="float64")
    x = rng.random(5)
    y = np.array([0.0, 1.0, 0.0])
    nabla_b, nabla_w = net.backprop(x, y)
    trace = net.trace(x, y)
    h = 1e-5
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        numeric_w = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            ws = net.weights
            ws[i][idx] += h
            net.weights = ws
            up = _cost(net, x, y)
            ws[i][idx] -= 2 * h
            net.weights = ws
            down = _cost(net, x, y)
            ws[i][idx] += h
            net.weights = ws
            numeric_w[idx] = (up - down) / (2 * h)
        np.testing.assert_allclose(nabla_w[i], numeric_w, rtol=1e-6, atol=1e-9)
        numeric_b = np.zeros_like(b)
        for j in range(len(b)):
            bs = net.biases
            bs[i][j] += h
            net.biases = bs
            up = _cost(net, x, y)
            bs[i][j] -= 2 * h
            net.biases = bs
            down = _cost(net, x, y)
            bs[i][j] += h
            net.biases = bs
            numeric_b[j] = (up - down) / (2 * h)
        np.testing.assert_allclose(nabla_b[i], numeric_b, rtol=1e-6, atol=1e-9)
        layer = trace["layers"][i + 1]
        np.testing.assert_array_equal(layer["nabla_w"], nabla_w[i])
        np.testing.assert_array_equal(layer["nabla_b"], nabla_b[i])
        np.testing.assert_array_equal(layer["delta"], nabla_b[i])  # BP3
    assert trace["cost"] == pytest.approx(_cost(net, x, y), rel=1e-14)
    assert trace["label"] == 1
    assert net.gradient_check(x[None, :], y[None, :])["max_relative_error"] < 1e-7


def test_trace_has_the_keys_and_shapes_of_the_cli_json():
    net = backprop.Network([784, 30, 10])
    t = net.trace(X_TEST[0], int(Y_TEST[0]))
    assert {"cost", "label", "target", "layers"} <= set(t)
    assert t["layers"][0].keys() == {"l", "a"} and t["layers"][0]["a"].shape == (784,)
    for layer, (n, n_prev) in zip(t["layers"][1:], [(30, 784), (10, 30)]):
        assert {"l", "z", "a", "delta", "nabla_b", "nabla_w"} <= set(layer)
        assert layer["nabla_w"].shape == (n, n_prev) and layer["z"].shape == (n,)
        assert layer["a"].dtype == np.float32
    soft = net.trace(X_TEST[0], np.full(10, 0.1, dtype=np.float32))
    assert soft["label"] is None


def _cli_json(cli, *args):
    out = subprocess.run([cli, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_trace_equals_the_cli_trace_json(cli, tmp_path):
    model = tmp_path / "m.safetensors"
    net = backprop.Network([784, 16, 10], activation="tanh", output_activation="softmax",
                           cost="log-likelihood", init="scaled", seed=4)
    net.train(X_TRAIN[:1000], Y_TRAIN[:1000], epochs=1, eta=0.1)
    net.save(model)
    index = 7
    expected = _cli_json(cli, "trace", "--model", str(model), "--index", str(index), "--json")
    net64 = backprop.load(model, dtype="float64")
    # The CLI reads pixel bytes as v / 255 in float64; the float32 array holds that rounded.
    x = np.round(X_TEST[index].astype(np.float64) * 255) / 255
    got = net64.trace(x, int(Y_TEST[index]))
    assert expected["label"] == got["label"] == Y_TEST[index]
    assert got["cost"] == pytest.approx(expected["cost"], abs=1e-12, rel=1e-12)
    np.testing.assert_allclose(got["target"], expected["target"], rtol=0, atol=1e-12)
    assert len(got["layers"]) == len(expected["layers"])
    for mine, theirs in zip(got["layers"], expected["layers"]):
        assert mine.keys() <= theirs.keys() | {"l"}
        for key in mine:
            np.testing.assert_allclose(np.asarray(mine[key], dtype=np.float64),
                                       np.asarray(theirs[key], dtype=np.float64),
                                       rtol=1e-12, atol=1e-12, err_msg=f"layer {mine['l']} {key}")


def test_a_model_saved_from_python_is_evaluated_alike_by_the_cli(cli, tmp_path):
    model = tmp_path / "py.safetensors"
    net = backprop.Network([784, 20, 10])
    net.train(X_TRAIN, Y_TRAIN, epochs=2)
    net.save(model)
    mine = net.evaluate(X_TEST, Y_TEST)
    theirs = _cli_json(cli, "evaluate", "--model", str(model), "--json")
    assert mine["correct"] == theirs["correct"] and mine["total"] == theirs["total"] == 2000
    assert mine["cost"] == pytest.approx(theirs["cost"], rel=1e-6)


def test_a_model_saved_by_the_cli_is_evaluated_alike_by_python(cli, tmp_path):
    model = tmp_path / "cli.safetensors"
    subprocess.run([cli, "train", "--layers", "784,20,10", "--epochs", "1", "--quiet",
                    "--threads", "1", "--save", str(model)], check=True, capture_output=True)
    theirs = _cli_json(cli, "evaluate", "--model", str(model), "--json")
    net = backprop.load(model)
    assert net.sizes == [784, 20, 10]
    assert net.evaluate(X_TEST, Y_TEST)["correct"] == theirs["correct"]


def test_training_learns_and_reports_the_metrics_keys():
    net = backprop.Network([784, 30, 10])
    seen = []
    reports = net.train(X_TRAIN, Y_TRAIN, epochs=2, test=(X_TEST, Y_TEST), callback=seen.append)
    assert len(reports) == 2 and seen == reports
    assert set(reports[0]) == {"epoch", "train_seconds", "train_cost", "test_cost", "test_correct",
                               "test_total", "test_accuracy", "eta", "validation_accuracy"}
    assert reports[-1]["test_accuracy"] > 0.7


def test_improvements_are_keyword_arguments():
    net = backprop.Network([784, 30, 10], cost="cross-entropy")
    reports = net.train(X_TRAIN[:2000], Y_TRAIN[:2000], epochs=3, eta=0.5,
                        optimizer="momentum", momentum=0.5, l1=0.01, dropout=0.1,
                        schedule="step:1:0.5", early_stop=2, validation=0.1, **{"lambda": 1.0})
    assert [r["eta"] for r in reports][:2] == [0.5, 0.25]
    assert reports[0]["validation_accuracy"] is not None


def test_a_callback_returning_false_stops_training():
    net = backprop.Network([784, 10, 10])
    reports = net.train(X_TRAIN[:500], Y_TRAIN[:500], epochs=10, callback=lambda r: r["epoch"] < 2)
    assert len(reports) == 2


def test_the_same_seed_trains_the_same_network():
    a, b = backprop.Network([784, 10, 10], seed=5), backprop.Network([784, 10, 10], seed=5)
    a.train(X_TRAIN[:500], Y_TRAIN[:500], epochs=2, seed=9)
    b.train(X_TRAIN[:500], Y_TRAIN[:500], epochs=2, seed=9)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])


def test_regression_with_target_rows():
    rng = np.random.default_rng(0)
    X = rng.random((400, 3), dtype=np.float32)
    Y = (X @ np.array([[1.0], [-2.0], [0.5]]) + 0.25).astype(np.float32)
    net = backprop.Network([3, 8, 1], activation="tanh", output_activation="identity",
                           init="scaled", seed=1)
    reports = net.train(X, Y, epochs=200, batch_size=20, eta=0.05)
    assert reports[-1]["train_cost"] < 0.01 * reports[0]["train_cost"]


def test_pickle_keeps_the_network():
    import pickle

    net = backprop.Network([3, 4, 2], dtype="float64", activation="relu", seed=2)
    back = pickle.loads(pickle.dumps(net))
    assert repr(back) == repr(net)
    np.testing.assert_array_equal(back.weights[1], net.weights[1])
