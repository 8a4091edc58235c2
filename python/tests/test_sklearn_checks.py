"""scikit-learn's own estimator checks on both estimators."""

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from backprop import MLPClassifier, MLPRegressor  # noqa: E402

#: Checks that must be skipped, with the reason: none. Every check runs and passes; the only
#: skips are scikit-learn's own, for what this environment lacks (two array-API checks without
#: SCIPY_ARRAY_API=1, two pandas checks without pandas).
EXPECTED_FAILED = {}


@parametrize_with_checks(
    [MLPClassifier(hidden_layer_sizes=(20,), max_iter=200, random_state=0),
     MLPRegressor(hidden_layer_sizes=(20,), max_iter=200, random_state=0),
     # scikit-learn's defaults, and max_iter=20 as `check_estimator(MLPClassifier(max_iter=20))`
     # passes for scikit-learn's own estimator (issue 25: ours learned too slowly from its
     # initialisation before it drew scikit-learn's).
     MLPClassifier(),
     MLPClassifier(max_iter=20)],
    expected_failed_checks=lambda est: EXPECTED_FAILED.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
