"""Methods a fitted search hands on to its refitted best estimator."""

from sklearn.metrics import check_scoring
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted


def _delegates(attr):
    """``available_if`` check: the fitted best estimator (or the unfitted one) has ``attr``."""

    def check(self):
        if not self.refit:
            return False
        if hasattr(self, "best_estimator_"):
            getattr(self.best_estimator_, attr)
        else:
            getattr(self.estimator, attr)
        return True

    return check


class BestEstimatorMixin:
    """``predict``, ``transform``… of ``best_estimator_``, present only when it has them."""

    def _make_scorer(self):
        if isinstance(self.scoring, dict):
            return {n: check_scoring(self.estimator, scoring=s) for n, s in self.scoring.items()}
        if isinstance(self.scoring, (list, tuple, set)):
            return {name: check_scoring(self.estimator, scoring=name) for name in self.scoring}
        return check_scoring(self.estimator, scoring=self.scoring)

    def score(self, X, y=None, **params):
        """Score of ``best_estimator_`` on ``X, y`` with the ``refit`` metric."""
        check_is_fitted(self, "best_estimator_")
        scorer = self.scorer_[self.refit] if self.multimetric_ else self.scorer_
        return scorer(self.best_estimator_, X, y, **params)

    @available_if(_delegates("predict"))
    def predict(self, X):
        """Call ``predict`` on the refitted best estimator."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    @available_if(_delegates("predict_proba"))
    def predict_proba(self, X):
        """Call ``predict_proba`` on the refitted best estimator."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X)

    @available_if(_delegates("predict_log_proba"))
    def predict_log_proba(self, X):
        """Call ``predict_log_proba`` on the refitted best estimator."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_delegates("decision_function"))
    def decision_function(self, X):
        """Call ``decision_function`` on the refitted best estimator."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.decision_function(X)

    @available_if(_delegates("transform"))
    def transform(self, X):
        """Call ``transform`` on the refitted best estimator."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.transform(X)

    @available_if(_delegates("inverse_transform"))
    def inverse_transform(self, X):
        """Call ``inverse_transform`` on the refitted best estimator."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.inverse_transform(X)

    @property
    def classes_(self):
        """Class labels of the best estimator."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.classes_

    @property
    def n_features_in_(self):
        """Number of features seen by the best estimator."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.n_features_in_
