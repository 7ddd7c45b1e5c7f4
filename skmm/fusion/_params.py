"""Parameter routing for estimators built from named (name, estimator, ...) tuples."""

from sklearn.base import BaseEstimator


class NamedStepsParamsMixin:
    """``get_params``/``set_params`` with ``<name>`` and ``<name>__<param>`` keys.

    Like sklearn's Pipeline and ColumnTransformer, so searches can tune an inner
    estimator (``text__C``) or replace it (``text=...``). The class sets
    ``_steps_param`` to the name of its list-of-tuples parameter; each tuple is
    ``(name, estimator, ...)``. Subclasses may add routed keys through
    ``_extra_deep_params`` and ``_set_extra_params``.
    """

    _steps_param = None

    def _step_names(self):
        try:
            return [step[0] for step in getattr(self, self._steps_param)]
        except (TypeError, IndexError, KeyError):
            return []

    def _extra_deep_params(self):
        return {}

    def _set_extra_params(self, params):
        return params

    def get_params(self, deep=True):
        """Get parameters of this estimator.

        Parameters
        ----------
        deep : bool, default=True
            If True, also the named estimators (``<name>``) and their
            parameters (``<name>__<param>``).

        Returns
        -------
        params : dict
        """
        params = BaseEstimator.get_params(self, deep=False)
        if not deep or not self._step_names():
            return params
        for step in getattr(self, self._steps_param):
            name, est = step[0], step[1]
            params[name] = est
            if hasattr(est, "get_params"):
                params.update({f"{name}__{k}": v for k, v in est.get_params(deep=True).items()})
        params.update(self._extra_deep_params())
        return params

    def set_params(self, **params):
        """Set parameters; ``<name>`` replaces that estimator.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator instance
        """
        own = set(BaseEstimator.get_params(self, deep=False))
        for key in [k for k in params if k in own]:
            setattr(self, key, params.pop(key))
        params = self._set_extra_params(params)
        names = self._step_names()
        replaced = {k: params.pop(k) for k in list(params) if k in names}
        if replaced:
            steps = getattr(self, self._steps_param)
            setattr(
                self,
                self._steps_param,
                [(s[0], replaced.get(s[0], s[1]), *s[2:]) for s in steps],
            )
        if params:
            BaseEstimator.set_params(self, **params)
        return self
