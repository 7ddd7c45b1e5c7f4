"""ModalityUnion: one block per modality, weighted, scaled, with missing-modality indicators."""

import logging
import numbers

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import Bunch, get_tags
from sklearn.utils.validation import check_is_fitted, validate_data

from ._blocks import block_names, block_stats, fit_transform_block, transform_block
from ._columns import absent_rows, resolve_columns, take_columns, take_rows
from ._layout import SEPARATOR, infer_blocks, missing_column_name
from ._params import NamedStepsParamsMixin

logger = logging.getLogger("skmm.fusion")

_SCALES = (None, "standard", "block")


class ModalityUnion(NamedStepsParamsMixin, TransformerMixin, BaseEstimator):
    """Concatenate one block per modality, with weights, block scaling and missing indicators.

    Like :class:`~sklearn.compose.ColumnTransformer`, each modality is a
    ``(name, transformer, columns)`` triple applied to some columns of a table.
    On top of it, the union knows its blocks (``blocks_``), scales and weights
    each block, and handles absent modalities: rows where a modality is absent
    are never passed to its transformer; they get a filled block and a 1.0 in
    the indicator column ``"{name}__missing"``.

    Parameters
    ----------
    transformers : list of (str, transformer, columns) tuples
        ``name`` is the modality (no ``"__"``); ``transformer`` an sklearn
        transformer, ``"passthrough"`` (numeric columns taken as they are) or
        ``"drop"``; ``columns`` a column name or position (handed to the
        transformer 1-D, as raw encoders expect), a list of them, a slice, a
        boolean mask or a callable ``X -> columns`` (handed on 2-D).
    weights : dict of str to float, default=None
        Multiplier of each modality's block after scaling; missing keys are
        1.0. Tunable whole (``weights={...}``) or per modality through the
        routed parameter ``weights__<name>`` (e.g. ``fusion__weights__audio``
        in a pipeline search).
    scale : {"block", "standard"} or None, default="block"
        ``"standard"`` standardises every output feature on the training rows
        where the modality is present; ``"block"`` also divides the block by
        ``sqrt(width)`` so every block has total variance 1 and a 1280-d block
        does not drown a 64-d one; None leaves the blocks as the transformers
        return them.
    handle_missing : bool, default=True
        Detect absent rows (None, NaN, empty or whitespace-only strings, empty
        arrays; for a multi-column selection, rows where every cell is absent),
        fill their block and add one indicator column per modality. Rows whose
        input is there but could not be encoded (those an skmm encoder with
        ``on_error="nan"`` or ``"zero"`` reports as failed, or rows a transformer
        returns as all-NaN) are absent too: filled, flagged and counted in
        ``n_failed_``, with a warning. Partial
        NaN in a multi-column (tabular) selection is not absence: it goes to
        the transformer, so put an imputer in it. If False, every row goes to
        the transformers and no indicator is added.
    fill_value : "mean", "zero" or float, default="mean"
        Fill of an absent block, in the block's output space after scaling and
        before weighting: the training mean of the block (zero after
        ``"standard"`` or ``"block"`` scaling), zeros, or a constant.
    n_jobs : int, default=None
        Modalities fitted and transformed in parallel (joblib).
    verbose : bool, default=False
        Log the fit time of each modality (logger ``skmm.fusion``).

    Attributes
    ----------
    transformers_ : list of (str, transformer, list of int) tuples
        Fitted transformers and the column positions each one reads.
    named_transformers_ : Bunch
        Fitted transformers by modality name.
    blocks_ : dict of str to list of int
        Output column positions of each modality's features.
    missing_columns_ : dict of str to int
        Output column position of each modality's indicator (every modality
        when ``handle_missing=True``, else empty).
    n_missing_ : dict of str to int
        Training rows where each modality was absent, including those in ``n_failed_``.
    n_failed_ : dict of str to int
        Training rows whose input was there but could not be encoded (a broken file with
        the encoder's ``on_error="nan"`` or ``"zero"``): treated as absent, and logged.
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when X was a DataFrame with string column names.

    See Also
    --------
    infer_blocks : Rebuild the same layout from output column names.
    make_fusion_pipeline : Build the usual pipeline from column roles.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skmm.fusion import ModalityUnion
    >>> X = pd.DataFrame({"note": ["good", "", None, "bad day"], "age": [30.0, 41, 25, 52]})
    >>> lengths = FunctionTransformer(
    ...     lambda s: np.c_[s.str.len()], feature_names_out=lambda t, names: ["length"]
    ... )
    >>> union = ModalityUnion([("text", lengths, "note"), ("age", "passthrough", ["age"])])
    >>> union.fit_transform(X).shape
    (4, 4)
    >>> union.get_feature_names_out().tolist()
    ['text__length', 'text__missing', 'age__age', 'age__missing']
    >>> union.blocks_, union.missing_columns_
    ({'text': [0], 'age': [2]}, {'text': 1, 'age': 3})
    """

    _steps_param = "transformers"

    def __init__(
        self,
        transformers,
        weights=None,
        scale="block",
        handle_missing=True,
        fill_value="mean",
        n_jobs=None,
        verbose=False,
    ):
        self.transformers = transformers
        self.weights = weights
        self.scale = scale
        self.handle_missing = handle_missing
        self.fill_value = fill_value
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- weights__<name> is routed like a step parameter, so searches can tune one weight
    def _extra_deep_params(self):
        weights = self.weights if isinstance(self.weights, dict) else {}
        return {f"weights__{name}": weights.get(name, 1.0) for name in self._step_names()}

    def _set_extra_params(self, params):
        weights = {
            k[len("weights__") :]: params.pop(k) for k in list(params) if k.startswith("weights__")
        }
        unknown = sorted(set(weights) - set(self._step_names()))
        if unknown:
            raise ValueError(
                f"Invalid parameter weights__{unknown[0]}: "
                f"no such modality in {self._step_names()}."
            )
        if weights:
            self.weights = {**(self.weights or {}), **weights}
        return params

    # -- validation
    def _check_params(self):
        names = self._step_names()
        if not names or any(
            not isinstance(t, (tuple, list)) or len(t) != 3 for t in self.transformers
        ):
            raise ValueError(
                "transformers must be a non-empty list of (name, transformer, columns) tuples."
            )
        reserved = set(super().get_params(deep=False))
        for name in names:
            if not isinstance(name, str) or not name or SEPARATOR in name or name in reserved:
                raise ValueError(
                    f"Invalid modality name {name!r}: a non-empty string without '__' that is not "
                    f"one of {sorted(reserved)}."
                )
        if len(set(names)) != len(names):
            raise ValueError(f"Modality names must be unique, got {names}.")
        for name, trans, _ in self.transformers:
            if isinstance(trans, str) and trans not in ("passthrough", "drop"):
                raise ValueError(
                    f"Modality {name!r}: transformer {trans!r} is not 'passthrough' or 'drop'."
                )
            if not isinstance(trans, str) and not hasattr(trans, "transform"):
                raise ValueError(
                    f"Modality {name!r}: {trans!r} is not a transformer (no transform method)."
                )
        weights = {} if self.weights is None else self.weights
        if not isinstance(weights, dict) or not all(
            isinstance(w, numbers.Real) and not isinstance(w, bool) for w in weights.values()
        ):
            raise ValueError(f"weights must be a dict of modality name to number, got {weights!r}.")
        unknown = sorted(set(weights) - set(names))
        if unknown:
            raise ValueError(f"weights names unknown modalities {unknown}; modalities are {names}.")
        if self.scale not in _SCALES:
            raise ValueError(f"scale must be one of {_SCALES}, got {self.scale!r}.")
        ok_fill = self.fill_value in ("mean", "zero") or (
            isinstance(self.fill_value, numbers.Real) and not isinstance(self.fill_value, bool)
        )
        if not ok_fill:
            raise ValueError(
                f"fill_value must be 'mean', 'zero' or a number, got {self.fill_value!r}."
            )

    def _validate(self, X, reset):
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=reset)
            if X.shape[0] < 1:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}); ModalityUnion needs 1."
                )
            return X
        return validate_data(self, X, dtype=None, ensure_all_finite=False, reset=reset)

    def _present(self, column):
        if not self.handle_missing:
            return np.arange(len(column))
        return np.flatnonzero(~absent_rows(column))

    # -- fitting
    def fit(self, X, y=None):
        """Fit every modality's transformer on the rows where that modality is present.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Input table.
        y : array-like of shape (n_samples,), default=None
            Targets, passed to the transformers (present rows only).

        Returns
        -------
        self : ModalityUnion
        """
        self._fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        """Fit and return the fused table, encoding each present row once.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Input table.
        y : array-like of shape (n_samples,), default=None
            Targets, passed to the transformers (present rows only).

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_features_out)
        """
        return self._fit_transform(X, y)

    def _fit_transform(self, X, y):
        self._check_params()
        X = self._validate(X, reset=True)
        y = None if y is None else np.asarray(y)
        active = [
            (n, t, c) for n, t, c in self.transformers if not (isinstance(t, str) and t == "drop")
        ]
        if not active:
            raise ValueError("Every modality is 'drop': nothing to fuse.")
        jobs, plans = [], []
        for name, trans, cols in active:
            positions, scalar = resolve_columns(X, cols, name)
            column = take_columns(X, positions, scalar)
            rows = self._present(column)
            if rows.size == 0:
                raise ValueError(
                    f"Modality {name!r} is absent in every training row, so its transformer cannot "
                    "be fitted; drop it ('drop') or give rows where it is present."
                )
            trans = trans if isinstance(trans, str) else clone(trans)
            y_rows = None if y is None else y[rows]
            jobs.append(
                delayed(fit_transform_block)(
                    trans, take_rows(column, rows), y_rows, name, self.verbose
                )
            )
            plans.append((name, positions, scalar, column, rows))
        results = Parallel(n_jobs=self.n_jobs)(jobs)

        self.transformers_, self._stats, self._scalar = [], {}, {}
        self.n_missing_, self.n_failed_, names_out, blocks = {}, {}, [], {}
        for (name, positions, scalar, column, rows), (fitted, block, failed) in zip(plans, results):
            rows, block = self._drop_failed(name, rows, block, failed)
            if rows.size == 0:
                raise ValueError(
                    f"Modality {name!r}: its transformer could not encode any training row "
                    f"(see the warnings); fix the inputs or drop the modality ('drop')."
                )
            blocks[name] = (rows, block)
            self.transformers_.append((name, fitted, positions))
            self._scalar[name] = scalar
            self.n_failed_[name] = int(failed.sum())
            self.n_missing_[name] = int(len(column) - rows.size)
            self._stats[name] = block_stats(block, self.scale, self.fill_value)
            names_out += block_names(fitted, take_rows(column, rows[:1]), name, block.shape[1])
            if self.handle_missing:
                names_out.append(missing_column_name(name))
        if len(set(names_out)) != len(names_out):
            raise ValueError(
                "Output feature names collide; does a transformer name a feature 'missing'?"
            )
        self.named_transformers_ = Bunch(**{n: t for n, t, _ in self.transformers_})
        self._names_out = np.asarray(names_out, dtype=object)
        layout = infer_blocks(self._names_out)
        self.blocks_ = {m: b["features"] for m, b in layout.items()}
        self.missing_columns_ = {
            m: b["missing"] for m, b in layout.items() if b["missing"] is not None
        }
        self.n_features_out_ = len(names_out)
        self.weights_ = {
            name: float((self.weights or {}).get(name, 1.0)) for name, *_ in self.transformers_
        }
        self._dtype = np.result_type(*[block.dtype for _, block, _ in results])
        return self._assemble(len(X), blocks)

    # -- transforming
    def transform(self, X):
        """Fuse new rows: encode present rows, fill absent ones, scale, weight, add indicators.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Table with the columns seen in ``fit``.

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_features_out)
        """
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        jobs, plans = [], []
        for name, fitted, positions in self.transformers_:
            column = take_columns(X, positions, self._scalar[name])
            rows = self._present(column)
            plans.append((name, rows))
            if rows.size:
                jobs.append(delayed(transform_block)(fitted, take_rows(column, rows), name))
        outputs = iter(Parallel(n_jobs=self.n_jobs)(jobs))
        blocks = {}
        for name, rows in plans:
            width = len(self.blocks_[name])
            block, failed = next(outputs) if rows.size else (np.empty((0, width)), None)
            if block.shape[1] != width:
                raise ValueError(
                    f"Modality {name!r} gave {block.shape[1]} features; fit gave {width}."
                )
            blocks[name] = self._drop_failed(name, rows, block, failed)
        return self._assemble(len(X), blocks)

    def _drop_failed(self, name, rows, block, failed):
        """Rows the transformer failed to encode become missing: filled and flagged."""
        if failed is None or not failed.any():
            return rows, block
        if not self.handle_missing:  # every row's block is used as it is
            return rows, block
        logger.warning(
            "ModalityUnion: %d of %d %r rows could not be encoded and are treated as missing.",
            int(failed.sum()),
            len(rows),
            name,
        )
        return rows[~failed], block[~failed]

    def _assemble(self, n_rows, blocks):
        dtype = self._dtype
        out = np.empty((n_rows, self.n_features_out_), dtype=dtype)
        for name, (rows, block) in blocks.items():
            mean, std, fill = self._stats[name]
            weight = self.weights_[name]
            cols = self.blocks_[name]
            view = out[:, cols[0] : cols[-1] + 1]  # a block's columns are contiguous
            view[:] = fill * weight
            view[rows] = (block - mean) * (weight / std)
            if name in self.missing_columns_:
                indicator = np.ones(n_rows, dtype=dtype)
                indicator[rows] = 0.0
                out[:, self.missing_columns_[name]] = indicator
        return out

    def get_feature_names_out(self, input_features=None):
        """Output names ``"{modality}__{feature}"`` and ``"{modality}__missing"``.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Checked against the input seen in ``fit``; not otherwise used.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            names_in = getattr(self, "feature_names_in_", None)
            if names_in is not None and not np.array_equal(names_in, input_features):
                raise ValueError("input_features is not equal to feature_names_in_")
            if len(input_features) != self.n_features_in_:
                raise ValueError(
                    f"input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(input_features)}"
                )
        return self._names_out.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN is accepted when absent rows are handled here, or when every block accepts it
        try:
            tags.input_tags.allow_nan = bool(self.handle_missing) or all(
                t == "passthrough" or t == "drop" or get_tags(t).input_tags.allow_nan
                for _, t, _ in self.transformers
            )
        except (TypeError, ValueError):  # malformed transformers: fit will say what is wrong
            tags.input_tags.allow_nan = bool(self.handle_missing)
        return tags
