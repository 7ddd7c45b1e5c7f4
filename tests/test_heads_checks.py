"""scikit-learn's own estimator checks on the skorch fusion heads."""

import pytest

pytest.importorskip("skorch")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from skmm.heads import FusionClassifier, FusionRegressor  # noqa: E402

# small and fast, but trained enough to pass the checks' score thresholds
_SETTINGS = dict(hidden_size=16, max_epochs=5, batch_size=64, lr=1e-2, random_state=0)

ESTIMATORS = [FusionClassifier(**_SETTINGS), FusionRegressor(**_SETTINGS)]


def _expected_failed_checks(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "mini-batch training: a sample of weight 2 and two copies of it land in different "
            "batches and change the number of optimizer steps, so the fits differ (as for "
            "sklearn's MLP and SGD estimators); weights do enter the loss, see test_heads.py"
        ),
    }


@pytest.mark.slow
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
