"""LateFusionClassifier: one classifier per modality, stacked on out-of-fold predictions."""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, check_cv, cross_val_predict
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._columns import resolve_columns
from ._expert import ModalityExpert
from ._layout import SEPARATOR, infer_blocks, missing_column_name
from ._params import NamedStepsParamsMixin

_METHODS = ("auto", "predict_proba", "decision_function")


def _final(self):
    """The fitted meta-learner if any, else the one ``fit`` would use."""
    if hasattr(self, "final_estimator_"):
        return self.final_estimator_
    return LogisticRegression() if self.final_estimator is None else self.final_estimator


def _final_has(method):
    def check(self):
        return hasattr(_final(self), method)

    return check


class LateFusionClassifier(NamedStepsParamsMixin, ClassifierMixin, BaseEstimator):
    """Late fusion: one classifier per modality block, stacked by a meta-learner.

    Each modality's classifier sees only its block. Its out-of-fold predictions
    (``cross_val_predict`` inside ``fit``, so a classifier never predicts rows it
    was trained on) and one missing indicator per modality are the inputs of
    ``final_estimator``. A classifier is trained on the rows where its modality
    is present; on rows where it is absent it answers the class prior of its
    training rows (``decision_function``: 0). Put it after a
    :class:`ModalityUnion`: the encoders run once there, and every fold here
    reuses their output.

    :class:`~sklearn.ensemble.StackingClassifier` does the out-of-fold stacking
    but trains every base model on every row and knows nothing of blocks or
    absent modalities; this class adds those and keeps the same parameters.

    Parameters
    ----------
    estimators : list of (str, classifier) or (str, classifier, columns) tuples
        With two items, the block is found by name among the input's column
        names ``"{name}__{feature}"`` (a DataFrame, e.g. ModalityUnion's pandas
        output), together with its indicator ``"{name}__missing"``. With three,
        ``columns`` selects the block explicitly (names or positions, a slice,
        a mask or a callable, as in ColumnTransformer); rows whose block is all
        NaN count as absent. ``"drop"`` in place of a classifier skips the block.
    final_estimator : classifier, default=None
        The meta-learner; :class:`~sklearn.linear_model.LogisticRegression` if None.
    cv : int, cross-validation generator or iterable, default=5
        Splits for the out-of-fold predictions. An int gives
        :class:`~sklearn.model_selection.StratifiedKFold`, or
        :class:`~sklearn.model_selection.StratifiedGroupKFold` when ``groups``
        is passed to ``fit``; a splitter object is used as it is (with ``groups``).
        With groups, it cannot exceed the number of distinct groups in the rows
        being fitted (in a pipeline, set it as ``<step>__cv``, e.g. ``head__cv``).
    stack_method : {"predict_proba", "decision_function", "auto"}, default="predict_proba"
        Output of each modality's classifier fed to the meta-learner; ``"auto"``
        takes ``predict_proba`` when available. For two classes only the second
        probability column is kept.
    passthrough : bool, default=False
        Also give the meta-learner the input features.
    n_jobs : int, default=None
        Folds fitted in parallel (joblib).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    estimators_ : list of estimators
        Each modality's classifier fitted on all its present rows.
    named_estimators_ : Bunch
        The same, by modality name.
    experts_ : list of ModalityExpert
        The wrappers that select each block and answer for absent rows.
    final_estimator_ : estimator
        The fitted meta-learner.
    stack_method_ : list of str
        The method used for each modality.
    blocks_ : dict
        ``{name: {"features": [int, ...], "missing": int or None}}`` in X.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of str
        Input column names, when X was a DataFrame with string column names.

    Notes
    -----
    Groups (e.g. speakers) must reach the inner splits too, or a speaker's clips are
    predicted by classifiers that saw that speaker. Without metadata routing, pass
    them to ``fit`` (``groups=``; in a pipeline ``params={"head__groups": g}``). With
    ``sklearn.set_config(enable_metadata_routing=True)``, ``groups`` given to
    ``cross_validate(..., params={"groups": g})``, a search's ``fit`` or a pipeline's
    ``fit`` reach this estimator and its inner splits: it requests ``groups`` by
    default (``set_fit_request(groups=False)`` opts out). ``sample_weight`` is routed
    only once requested with ``set_fit_request(sample_weight=True)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmm.fusion import LateFusionClassifier
    >>> rng = np.random.RandomState(0)
    >>> y = rng.randint(0, 2, 200)
    >>> X = 2 * y[:, None] + rng.normal(size=(200, 4))
    >>> late = LateFusionClassifier(
    ...     [("audio", LogisticRegression(), [0]), ("text", LogisticRegression(), [1, 2, 3])]
    ... ).fit(X, y)
    >>> late.predict_proba(X[:2]).shape
    (2, 2)
    >>> late.score(X, y) > 0.8
    True
    """

    _steps_param = "estimators"
    # Routed groups reach the inner out-of-fold splits without a set_fit_request call.
    __metadata_request__fit = {"groups": True}

    def __init__(
        self,
        estimators,
        final_estimator=None,
        cv=5,
        stack_method="predict_proba",
        passthrough=False,
        n_jobs=None,
    ):
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.stack_method = stack_method
        self.passthrough = passthrough
        self.n_jobs = n_jobs

    def _resolve_blocks(self, X_in, X):
        """(name, estimator, features, missing) for every block that is not dropped."""
        if (
            not isinstance(self.estimators, list)
            or not self.estimators
            or any(
                not isinstance(e, (tuple, list)) or len(e) not in (2, 3) for e in self.estimators
            )
        ):
            raise ValueError(
                "estimators must be a non-empty list of (name, classifier[, columns]) tuples."
            )
        names = self._step_names()
        reserved = set(BaseEstimator.get_params(self, deep=False))
        bad = [
            n for n in names if not isinstance(n, str) or not n or SEPARATOR in n or n in reserved
        ]
        if bad or len(set(names)) != len(names):
            raise ValueError(f"Modality names must be unique strings without '__', got {names}.")
        frame = X_in if isinstance(X_in, pd.DataFrame) else X
        feature_names = getattr(self, "feature_names_in_", None)
        layout = infer_blocks(feature_names, default="") if feature_names is not None else {}
        specs = []
        for name, est, *cols in self.estimators:
            if isinstance(est, str) and est == "drop":
                continue
            if not hasattr(est, "fit"):
                raise ValueError(f"Modality {name!r}: {est!r} is not a classifier.")
            if cols:
                features, _ = resolve_columns(frame, cols[0], name)
                missing = None
                if feature_names is not None and missing_column_name(name) in list(feature_names):
                    missing = list(feature_names).index(missing_column_name(name))
            elif name in layout and layout[name]["features"]:
                features, missing = layout[name]["features"], layout[name]["missing"]
            else:
                raise ValueError(
                    f"No columns named '{name}__<feature>' in X for modality {name!r}; found "
                    f"modalities {sorted(m for m in layout if m)}. Pass a DataFrame from "
                    "ModalityUnion(...).set_output(transform='pandas') or give the columns: "
                    "(name, classifier, columns)."
                )
            specs.append((name, est, list(features), missing))
        if not specs:
            raise ValueError("Every modality is 'drop': nothing to fuse.")
        return specs

    def _method(self, name, est):
        if self.stack_method not in _METHODS:
            raise ValueError(f"stack_method must be one of {_METHODS}, got {self.stack_method!r}.")
        method = self.stack_method
        if method == "auto":
            method = "predict_proba" if hasattr(est, "predict_proba") else "decision_function"
        if not hasattr(est, method):
            raise ValueError(f"Modality {name!r}: {type(est).__name__} has no {method}.")
        return method

    def _inner_splits(self, X, y, groups):
        """The out-of-fold splits, drawn once; a failure names the ``cv`` parameter."""
        if groups is not None and (self.cv is None or isinstance(self.cv, numbers.Integral)):
            splitter = StratifiedGroupKFold(n_splits=5 if self.cv is None else self.cv)
        else:
            splitter = check_cv(self.cv, y, classifier=True)
        try:
            return list(splitter.split(X, y, groups))
        except ValueError as exc:
            n_splits = getattr(splitter, "n_splits", None)
            where = (
                "set LateFusionClassifier's cv parameter (in a pipeline '<step>__cv', "
                "e.g. head__cv in make_fusion_pipeline)"
            )
            if groups is not None and n_splits is not None:
                n_groups = len(np.unique(np.asarray(groups)))
                if n_splits > n_groups:
                    raise ValueError(
                        f"LateFusionClassifier makes {n_splits} inner folds (cv={self.cv!r}) "
                        f"for its out-of-fold predictions, but the {len(y)} rows it is fitted "
                        f"on hold only {n_groups} groups: {where} to at most {n_groups}."
                    ) from exc
            raise ValueError(
                f"LateFusionClassifier could not split its {len(y)} rows into inner folds "
                f"(cv={self.cv!r}): {exc} To change the inner folds, {where}."
            ) from exc

    def fit(self, X, y, groups=None, sample_weight=None):
        """Fit each modality's classifier out of fold, then the meta-learner on their predictions.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Fused numeric features (NaN allowed where a block is absent).
        y : array-like of shape (n_samples,)
            Class labels.
        groups : array-like of shape (n_samples,), default=None
            Group labels (e.g. speakers): no group is in both the fitting and
            the predicted fold.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every classifier that is fitted.

        Returns
        -------
        self : LateFusionClassifier
        """
        X_in = X
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"LateFusionClassifier needs at least 2 classes in y, got 1 class: {self.classes_}."
            )
        y_enc = encoder.transform(y)
        fit_params = {}
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (len(y),):
                raise ValueError(
                    f"sample_weight.shape == {sample_weight.shape}, expected {(len(y),)}!"
                )
            fit_params["sample_weight"] = sample_weight
        specs = self._resolve_blocks(X_in, X)
        splits = self._inner_splits(X, y_enc, groups)
        self.blocks_ = {name: {"features": f, "missing": m} for name, _, f, m in specs}
        self.stack_method_, self.experts_, oof = [], [], []
        for name, est, features, missing in specs:
            method = self._method(name, est)
            expert = ModalityExpert(est, features, missing)
            oof.append(
                cross_val_predict(
                    expert,
                    X,
                    y_enc,
                    cv=splits,  # drawn with groups above, so routing has nothing to pass
                    method=method,
                    n_jobs=self.n_jobs,
                    params=fit_params,
                )
            )
            self.stack_method_.append(method)
            self.experts_.append(clone(expert).fit(X, y_enc, **fit_params))
        self.estimators_ = [expert.estimator_ for expert in self.experts_]
        self.named_estimators_ = Bunch(
            **{name: e for (name, *_), e in zip(specs, self.estimators_)}
        )
        if hasattr(self, "final_estimator_"):
            del self.final_estimator_  # refit: the meta-learner comes from the parameter again
        self.final_estimator_ = clone(_final(self)).fit(self._stack(X, oof), y_enc, **fit_params)
        return self

    def _stack(self, X, predictions):
        columns = []
        for pred, method in zip(predictions, self.stack_method_):
            pred = np.asarray(pred, dtype=np.float64)
            if pred.ndim == 1:
                pred = pred.reshape(-1, 1)
            elif method == "predict_proba" and pred.shape[1] == 2:
                pred = pred[:, 1:]  # the two columns are collinear
            columns.append(pred)
        for expert in self.experts_:
            columns.append(expert.absent(X).astype(np.float64)[:, None])
        if self.passthrough:
            # the indicators carry absence; a meta-learner without NaN support gets zeros there
            columns.append(X if self._final_allows_nan() else np.nan_to_num(X, nan=0.0))
        return np.hstack(columns)

    def _final_allows_nan(self):
        return get_tags(_final(self)).input_tags.allow_nan

    def _meta_features(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, ensure_all_finite="allow-nan", reset=False)
        predictions = [
            getattr(expert, method)(X) for expert, method in zip(self.experts_, self.stack_method_)
        ]
        return self._stack(X, predictions)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        X_meta = self._meta_features(X)
        return self.classes_[self.final_estimator_.predict(X_meta)]

    @available_if(_final_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the meta-learner.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        X_meta = self._meta_features(X)
        return self.final_estimator_.predict_proba(X_meta)

    @available_if(_final_has("decision_function"))
    def decision_function(self, X):
        """Decision values from the meta-learner.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        X_meta = self._meta_features(X)
        return self.final_estimator_.decision_function(X_meta)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # an all-NaN block marks an absent modality
        return tags
