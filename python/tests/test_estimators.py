"""The estimators' attributes, in scikit-learn's conventions and orientation."""

import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import backprop  # noqa: E402
from backprop import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

X, Y, X_TEST, Y_TEST = backprop.datasets.mnist_10k()


def test_the_classifier_learns_digits_with_any_label_type():
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    clf = MLPClassifier(hidden_layer_sizes=(30,), max_iter=5, random_state=0, tol=0)
    clf.fit(X[:4000], names[Y[:4000]])
    assert list(clf.classes_) == sorted(names)
    assert clf.score(X_TEST, names[Y_TEST]) > 0.75
    assert [c.shape for c in clf.coefs_] == [(784, 30), (30, 10)]
    assert [b.shape for b in clf.intercepts_] == [(30,), (10,)]
    np.testing.assert_array_equal(clf.coefs_[0], clf.network_.weights[0].T)
    assert len(clf.loss_curve_) == clf.n_iter_ == 5
    assert clf.best_loss_ == min(clf.loss_curve_) and clf.validation_scores_ is None
    p = clf.predict_proba(X_TEST[:5])
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    assert (clf.classes_[p.argmax(axis=1)] == clf.predict(X_TEST[:5])).all()


def test_early_stopping_keeps_validation_scores_and_the_best_network():
    clf = MLPClassifier(hidden_layer_sizes=(20,), solver="sgd", momentum=0.5, learning_rate_init=0.1,
                        early_stopping=True, n_iter_no_change=2, max_iter=30, random_state=1)
    clf.fit(X[:3000], Y[:3000])
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None


def test_partial_fit_continues_and_the_same_seed_gives_the_same_model():
    a = MLPClassifier(hidden_layer_sizes=(10,), random_state=3)
    b = MLPClassifier(hidden_layer_sizes=(10,), random_state=3)
    for _ in range(3):
        a.partial_fit(X[:1000], Y[:1000], classes=np.arange(10))
        b.partial_fit(X[:1000], Y[:1000], classes=np.arange(10))
    assert a.n_iter_ == 3 and a.loss_curve_[-1] < a.loss_curve_[0]
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


def test_the_regressor_fits_one_and_several_outputs():
    rng = np.random.default_rng(0)
    Xr = rng.random((500, 3))
    y = Xr @ np.array([1.0, -2.0, 0.5]) + 0.25
    reg = MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", max_iter=300, tol=0,
                       learning_rate_init=0.01, random_state=0).fit(Xr, y)
    assert reg.predict(Xr).shape == (500,) and reg.score(Xr, y) > 0.95
    assert reg.out_activation_ == "identity"
    Y2 = np.column_stack([y, -y])
    reg2 = MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", max_iter=300, tol=0,
                        learning_rate_init=0.01, random_state=0).fit(Xr, Y2)
    assert reg2.predict(Xr).shape == (500, 2) and reg2.score(Xr, Y2) > 0.95


def test_our_parameters_reach_the_engine():
    clf = MLPClassifier(hidden_layer_sizes=(8,), activation="logistic", output_activation="sigmoid",
                        cost="cross-entropy", dropout=0.1, threads=1, dtype="float64", max_iter=2)
    clf.fit(X[:500], Y[:500])
    net = clf.network_
    assert (net.activation, net.output_activation, net.cost, net.dtype) == (
        "sigmoid", "sigmoid", "cross-entropy", "float64")
    np.testing.assert_allclose(clf.predict_proba(X[:3]).sum(axis=1), 1)
    assert set(clf.get_params()) >= {"hidden_layer_sizes", "alpha", "beta_1", "cost", "dropout", "threads"}


def test_a_pickled_estimator_predicts_the_same():
    clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=2, random_state=0).fit(X[:500], Y[:500])
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict(X_TEST[:50]), clf.predict(X_TEST[:50]))


@pytest.mark.parametrize("make,solver", [
    (MLPClassifier, "adam"), (MLPClassifier, "sgd"), (MLPRegressor, "adam"), (MLPRegressor, "sgd"),
])
def test_partial_fit_after_a_pickle_round_trip_continues_as_without_it(make, solver):
    kw = dict(hidden_layer_sizes=(10,), random_state=0, solver=solver, momentum=0.9, alpha=0.01)
    y = Y[:500] if make is MLPClassifier else Y[:500] / 9.0
    fit = {"classes": np.arange(10)} if make is MLPClassifier else {}
    a, b = make(**kw), make(**kw)
    for clf in (a, b):
        clf.partial_fit(X[:500], y, **fit)
        clf.partial_fit(X[500:1000], y)
    b = pickle.loads(pickle.dumps(b))
    for _ in range(2):
        a.partial_fit(X[:500], y)
        b.partial_fit(X[:500], y)
    assert a.n_iter_ == b.n_iter_ == 4 and a.t_ == b.t_ and a.loss_curve_ == b.loss_curve_
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(p, q)
    np.testing.assert_array_equal(a.predict(X_TEST[:50]), b.predict(X_TEST[:50]))


def test_partial_fit_continues_a_pickled_fit():
    a = MLPClassifier(hidden_layer_sizes=(10,), max_iter=2, random_state=0).fit(X[:500], Y[:500])
    b = pickle.loads(pickle.dumps(a))
    a.partial_fit(X[:500], Y[:500])
    b.partial_fit(X[:500], Y[:500])
    for p, q in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(p, q)


def test_a_pickle_without_the_optimizer_state_predicts_and_asks_for_fit():
    clf = MLPClassifier(hidden_layer_sizes=(10,), max_iter=2, random_state=0).fit(X[:500], Y[:500])
    state = clf.__getstate__()
    del state["_trainer"]  # as the versions before issue 22 pickled it
    old = MLPClassifier.__new__(MLPClassifier)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict(X_TEST[:50]), clf.predict(X_TEST[:50]))
    with pytest.raises(ValueError, match="optimizer state.*call fit"):
        old.partial_fit(X[:500], Y[:500])


def test_an_estimator_whose_outputs_are_not_finite_raises_instead_of_predicting():
    clf = MLPClassifier(hidden_layer_sizes=(5,), activation="relu", max_iter=2, random_state=0)
    clf.fit(X[:200], Y[:200])
    clf._network.weights = [np.full(w.shape, 3e38, dtype=np.float32) for w in clf._network.weights]
    for call in (clf.predict, clf.predict_proba, lambda x: clf.score(x, Y[:20])):
        with pytest.raises(ValueError, match=r"a\^\(2\) are not finite"):
            call(X[:20])


def test_scikit_learns_defaults_give_scikit_learns_accuracy_on_load_digits():
    """Issue 25: at every default, on load_digits split by train_test_split(random_state=0), the
    drop-in is within 0.2 points of scikit-learn's accuracy and takes at most 10% more epochs."""
    sk = pytest.importorskip("sklearn.neural_network")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = sk.MLPClassifier(random_state=0).fit(Xtr, ytr)
        ours = backprop.MLPClassifier(random_state=0).fit(Xtr, ytr)
    assert ours.score(Xte, yte) >= theirs.score(Xte, yte) - 0.002
    assert ours.n_iter_ <= 1.1 * theirs.n_iter_
    assert ours.loss_ == ours.loss_curve_[-1]


def test_the_initialisation_is_scikit_learns_range():
    """Weights and biases from U(±sqrt(6/(n_in + n_out))), sqrt(2/...) for logistic networks."""
    for activation, factor in [("relu", 6.0), ("sigmoid", 2.0)]:
        net = backprop.Network([784, 100, 10], activation=activation, init="glorot")
        for (w, b), (n_in, n_out) in zip(zip(net.weights, net.biases), [(784, 100), (100, 10)]):
            r = np.sqrt(factor / (n_in + n_out))
            assert np.abs(w).max() <= r and np.abs(b).max() <= r
            assert np.abs(w).max() > 0.99 * r and abs(w.std() / (r / np.sqrt(3)) - 1) < 0.05


def test_partial_fit_refuses_early_stopping_as_scikit_learn_does():
    with pytest.raises(ValueError, match="early_stopping"):
        backprop.MLPClassifier(early_stopping=True).partial_fit(X[:50], Y[:50], classes=np.arange(10))


def test_a_failed_fit_leaves_the_estimator_unfitted():
    """Found by the hostile round of issue 25: a fit refused after the network was drawn left an
    untrained network that predicted silently."""
    from sklearn.exceptions import NotFittedError

    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5).fit(X[:100], Y[:100])
    clf.set_params(alpha=1e6)
    with pytest.raises(ValueError):
        clf.fit(X[:100], Y[:100])
    with pytest.raises(NotFittedError):
        clf.predict(X[:3])


def test_partial_fit_edges_follow_scikit_learn():
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, early_stopping=True).fit(X[:200], Y[:200])
    clf.set_params(early_stopping=False).partial_fit(X[:200], Y[:200])
    assert clf.best_loss_ == clf.loss_curve_[-1]
    with pytest.raises(ValueError, match="not the same as on last call"):
        clf.partial_fit(X[:200], Y[:200], classes=np.arange(5))
    reg = MLPRegressor(max_iter=2).partial_fit(X[:50], X[:50, 0])
    with pytest.raises(ValueError, match="outputs"):
        reg.partial_fit(X[:50], X[:50, :2])
    assert reg.predict(X[:2]).shape == (2,)


@pytest.mark.parametrize("bad", [dict(hidden_layer_sizes=None), dict(tol=None), dict(alpha="x"),
                                 dict(max_iter=True), dict(momentum=None), dict(dtype="half")])
def test_bad_parameters_are_value_errors(bad):
    with pytest.raises(ValueError):
        MLPClassifier(**bad).fit(X[:50], Y[:50])
