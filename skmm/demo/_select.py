"""Choosing the headline model without its test folds: nested CV with a validation split inside."""

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import StratifiedGroupKFold, cross_validate
from sklearn.utils import Bunch

logger = logging.getLogger("skmm.demo")


@dataclass(frozen=True)
class Candidate:
    """A model the demo scores, and may choose as its headline model.

    Attributes
    ----------
    name : str
    estimator : estimator
        Unfitted; cloned for every fit.
    space : dict, optional
        Optuna distributions; the candidate is tuned on the validation split first.
    study : callable, optional
        Returns a fresh Optuna study for each tuning (e.g. with the defaults enqueued).
    kind : str, default="multimodal"
        Shown in the tables ("multimodal", "single modality").
    choosable : bool, default=True
        False for reference models (e.g. one modality alone) that are scored but never chosen.
    """

    name: str
    estimator: Any
    space: dict | None = None
    study: Any = None
    kind: str = "multimodal"
    choosable: bool = True


class ModelSelection:
    """Choose among candidates on a validation split of the training rows; score them by nested CV.

    :meth:`choose` sees only the rows it is given: it holds out a third of their
    groups (``StratifiedGroupKFold``), tunes the candidates that have a search space
    on that split, and picks the choosable candidate with the best validation score.
    :meth:`nested` runs :meth:`choose` on the training part of each outer fold, then
    scores every candidate, and the chosen one, on the outer test fold, which no
    choice has seen.

    Parameters
    ----------
    candidates : list of Candidate
    scoring : dict of str to scorer
    metric : str, default="uar"
        The key of ``scoring`` that decides.
    n_trials : int, default=8
        Optuna trials per tuned candidate and choice.
    validation_splits : int, default=3
        The validation part is one of this many group folds of the rows given.
    random_state : int, default=0

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.metrics import make_scorer, recall_score
    >>> from sklearn.model_selection import GroupKFold
    >>> from skmm.demo import Candidate, ModelSelection
    >>> rng = np.random.RandomState(0)
    >>> y = rng.randint(0, 2, 90)
    >>> X, groups = y[:, None] + rng.normal(size=(90, 2)), np.arange(90) // 5
    >>> selection = ModelSelection(
    ...     [Candidate("dummy", DummyClassifier()), Candidate("logistic", LogisticRegression())],
    ...     scoring={"uar": make_scorer(recall_score, average="macro")},
    ... )
    >>> selection.choose(X, y, groups).winner
    'logistic'
    >>> nested = selection.nested(X, y, groups, GroupKFold(3))
    >>> nested.chosen
    ['logistic', 'logistic', 'logistic']
    """

    def __init__(
        self, candidates, *, scoring, metric="uar", n_trials=8, validation_splits=3, random_state=0
    ):
        self.candidates = candidates
        self.scoring = scoring
        self.metric = metric
        self.n_trials = n_trials
        self.validation_splits = validation_splits
        self.random_state = random_state

    def _validation_split(self, y, groups):
        splitter = StratifiedGroupKFold(
            self.validation_splits, shuffle=True, random_state=self.random_state
        )
        return next(splitter.split(np.zeros(len(y)), y, groups))

    def choose(self, X, y, groups):
        """Tune and score the candidates on a validation split of these rows; pick the best.

        Returns
        -------
        choice : sklearn.utils.Bunch
            ``winner`` (name), ``scores`` (validation score per choosable candidate),
            ``params`` (tuned parameters per candidate), ``fitted`` (tuned candidates
            refitted on all the rows given), ``searches`` and ``validation`` (row
            positions of the validation part).
        """
        from ..model_selection import OptunaSearchCV

        split = self._validation_split(y, groups)
        scores, params, fitted, searches = {}, {}, {}, {}
        for c in self.candidates:
            if c.space is not None:
                search = OptunaSearchCV(
                    c.estimator,
                    c.space,
                    n_trials=self.n_trials,
                    cv=[split],
                    scoring=self.scoring,
                    refit=self.metric,
                    study=c.study() if c.study else None,
                    random_state=self.random_state,
                ).fit(X, y, groups=groups)
                searches[c.name], params[c.name] = search, search.best_params_
                fitted[c.name] = search.best_estimator_  # refitted on every row given
                if c.choosable:
                    scores[c.name] = search.best_score_
            elif c.choosable:
                result = cross_validate(
                    c.estimator, X, y, cv=[split], scoring={self.metric: self.scoring[self.metric]}
                )
                scores[c.name] = float(result[f"test_{self.metric}"][0])
        if not scores:
            raise ValueError("No candidate is choosable; mark at least one with choosable=True.")
        winner = max(scores, key=scores.get)  # first listed wins a tie
        return Bunch(
            winner=winner,
            scores=scores,
            params=params,
            fitted=fitted,
            searches=searches,
            validation=split[1],
        )

    def fit_candidate(self, name, choice, X, y):
        """The candidate ``name`` with the parameters ``choice`` tuned, fitted on ``X, y``."""
        if name in choice.fitted:
            return choice.fitted[name]
        candidate = next(c for c in self.candidates if c.name == name)
        return clone(candidate.estimator).set_params(**choice.params.get(name, {})).fit(X, y)

    def nested(self, X, y, groups, cv):
        """Nested CV: :meth:`choose` on each outer training part, every candidate scored on its test fold.

        Returns
        -------
        result : sklearn.utils.Bunch
            ``results``: per candidate name, and ``"chosen"`` for each fold's choice, a dict
            like :func:`sklearn.model_selection.cross_validate`'s (``test_<metric>``
            arrays, ``estimator``, ``indices``); ``chosen``: the winner of each fold;
            ``choices``: each fold's :meth:`choose` result.
        """
        y, groups = np.asarray(y), np.asarray(groups)
        scorer = check_scoring(self.candidates[0].estimator, scoring=self.scoring)
        names = [c.name for c in self.candidates] + ["chosen"]
        results = {n: {"estimator": [], "indices": {"train": [], "test": []}} for n in names}
        chosen, choices = [], []
        for fold, (train, test) in enumerate(cv.split(X, y, groups)):
            X_train, X_test = _rows(X, train), _rows(X, test)
            choice = self.choose(X_train, y[train], groups[train])
            models = {
                c.name: self.fit_candidate(c.name, choice, X_train, y[train])
                for c in self.candidates
            }
            models["chosen"] = models[choice.winner]
            for name, model in models.items():
                out = results[name]
                out["estimator"].append(model)
                out["indices"]["train"].append(train)
                out["indices"]["test"].append(test)
                for key, score in scorer(model, X_test, y[test]).items():
                    out.setdefault(f"test_{key}", []).append(score)
            chosen.append(choice.winner)
            choices.append(choice)
            logger.info(
                "      fold %d: chose %s (validation %s %.3f); test %s %.3f",
                fold + 1,
                choice.winner,
                self.metric.upper(),
                choice.scores[choice.winner],
                self.metric.upper(),
                results["chosen"][f"test_{self.metric}"][-1],
            )
        for out in results.values():
            for key in self.scoring:
                out[f"test_{key}"] = np.asarray(out[f"test_{key}"], dtype=float)
        return Bunch(results=results, chosen=chosen, choices=choices)


def describe_winner(nested, final, metric="uar"):
    """Which candidate won, by how much on validation and on the test folds, as Markdown.

    Parameters
    ----------
    nested : Bunch
        :meth:`ModelSelection.nested`'s result.
    final : Bunch
        :meth:`ModelSelection.choose`'s result on all the rows (the saved model's choice).
    metric : str, default="uar"

    Returns
    -------
    text : str
    """
    name = metric.upper()
    winner, scores = final.winner, final.scores
    parts = [f"**Winner: {winner}.**"]
    others = {n: s for n, s in scores.items() if n != winner}
    if others:
        runner = max(others, key=others.get)
        parts.append(
            f"It was chosen on a validation third of the speakers with {name} "
            f"{scores[winner]:.3f}, {scores[winner] - others[runner]:+.3f} over the next, "
            f"{runner} ({others[runner]:.3f})."
        )
        tests = {n: nested.results[n][f"test_{metric}"] for n in scores}
        best = max((n for n in tests if n != winner), key=lambda n: tests[n].mean())
        gap = tests[winner].mean() - tests[best].mean()
        ahead = int(np.sum(tests[winner] > tests[best]))
        parts.append(
            f"On the test folds, which no choice saw, it scores {name} "
            f"{tests[winner].mean():.3f} ± {tests[winner].std():.3f}: {gap:+.3f} "
            f"{'ahead of' if gap >= 0 else 'behind'} the best other candidate, {best} "
            f"({tests[best].mean():.3f}), and ahead of it in {ahead} of {len(tests[best])} folds."
        )
    chosen = nested.results["chosen"][f"test_{metric}"]
    counts = ", ".join(f"{n} {nested.chosen.count(n)}×" for n in dict.fromkeys(nested.chosen))
    parts.append(
        f"Choosing the same way inside each outer fold (nested CV; chosen: {counts}) scores "
        f"{name} {chosen.mean():.3f} ± {chosen.std():.3f}, the honest estimate for the "
        "whole procedure."
    )
    return " ".join(parts)


def _rows(X, index):
    return X.iloc[index] if hasattr(X, "iloc") else X[index]
