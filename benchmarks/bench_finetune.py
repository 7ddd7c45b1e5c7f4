"""Fine-tuning (issue 10): accuracy on the VADER corpora, and training throughput.

(vader)  On each vendored VADER corpus, the same stratified folds: macro-F1 of VADER's own
         compound score (thresholds +-0.05; ``vaderSentiment``), of the frozen TextEncoder +
         LogisticRegression, and of FineTunedClassifier (LoRA and full).
(speed)  One epoch over the same tweets and batches: FineTunedClassifier(method="full")
         against a hand-written torch loop over the same model, padding and optimizer,
         and against Hugging Face's ``Trainer`` with its defaults (batch 8, lr 5e-5).

Usage::

    PYTHONPATH=. python benchmarks/bench_finetune.py --parts speed --n-speed 320
    PYTHONPATH=. python benchmarks/bench_finetune.py --parts vader --corpora tweets \
        --per-corpus 1000 --folds 5 --epochs 3
"""

import argparse
import time

import numpy as np


# -- accuracy ------------------------------------------------------------------------------
def vader_predictions(texts):
    """VADER's compound score mapped to the three classes with its documented +-0.05."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    compound = np.array([analyzer.polarity_scores(t)["compound"] for t in texts])
    return np.where(
        compound >= 0.05, "positive", np.where(compound <= -0.05, "negative", "neutral")
    )


def bench_vader(corpora, per_corpus, folds, epochs, methods, threads, batch_size, only=None):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from skmm import TextEncoder
    from skmm.datasets import load_vader_sentences
    from skmm.finetune import FineTunedClassifier

    print(
        f"## VADER corpora: {folds}-fold stratified CV, macro-F1 (3 classes, valence <= -0.5 / "
        f">= 0.5), {per_corpus or 'all'} rows per corpus, {epochs} epochs, {threads} thread(s)\n"
    )
    header = ["corpus", "rows", "VADER compound", "frozen + LogReg"] + [
        f"fine-tuned {m}" for m in methods
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for corpus in corpora:
        frame = load_vader_sentences(corpus)
        X, y = frame["text"].to_numpy(dtype=object), frame["sentiment"].to_numpy()
        if per_corpus and per_corpus < len(X):
            pick = np.sort(np.random.default_rng(0).permutation(len(X))[:per_corpus])
            X, y = X[pick], y[pick]
        cv = list(StratifiedKFold(folds, shuffle=True, random_state=0).split(X, y))
        scores = {"vader": [], "frozen": [], **{m: [] for m in methods}}
        times = {m: 0.0 for m in methods}
        vader = vader_predictions(X)
        Z = TextEncoder(cache=False, progress=False, runtime="torch").fit(X[:4]).transform(X)
        for fold, (train, test) in enumerate(cv, 1):
            if only and fold not in only:  # a share of the folds, for runs side by side
                continue
            scores["vader"].append(f1_score(y[test], vader[test], average="macro"))
            logreg = LogisticRegression(max_iter=3000).fit(Z[train], y[train])
            scores["frozen"].append(f1_score(y[test], logreg.predict(Z[test]), average="macro"))
            for method in methods:
                start = time.perf_counter()
                clf = FineTunedClassifier(
                    TextEncoder(cache=False, progress=False, max_length=128),
                    method=method,
                    max_epochs=epochs,
                    batch_size=batch_size,
                    random_state=0,
                    n_threads=threads,
                    progress=False,
                ).fit(X[train], y[train])
                scores[method].append(f1_score(y[test], clf.predict(X[test]), average="macro"))
                times[method] += time.perf_counter() - start
                print(f"  ({corpus} fold {fold}: {method} "
                      f"{scores[method][-1]:.4f}, {time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
        cells = [corpus, str(len(X))] + [
            f"{np.mean(scores[k]):.4f}" for k in ["vader", "frozen", *methods]
        ]
        print("| " + " | ".join(cells) + " |", flush=True)
        for method in methods:
            print(f"  {method}: {times[method]:.0f} s for {len(scores[method])} fits", flush=True)


# -- throughput ------------------------------------------------------------------------------
def _tweets(n):
    from skmm.datasets import load_vader_sentences

    frame = load_vader_sentences("tweets").head(n)
    return frame["text"].tolist(), frame["sentiment"].to_numpy()


def hand_loop(texts, labels, batch_size, threads):
    """The loop a torch user writes: same model, same length-sorted batches, AdamW."""
    import torch

    from skmm.backbones import load_text_model, minilm_path
    from skmm.backbones._hf_text import pad_token_ids, sentence_embedding

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    tokenizer, net = load_text_model(minilm_path())
    ids = tokenizer(texts, truncation=True, max_length=128)["input_ids"]
    classes, y = np.unique(labels, return_inverse=True)
    head = torch.nn.Linear(384, len(classes))
    optimizer = torch.optim.AdamW(
        [{"params": net.parameters(), "lr": 3e-5}, {"params": head.parameters(), "lr": 1e-3}],
        weight_decay=0.01,
    )
    net.train()
    order = np.argsort([len(i) for i in ids], kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    start = time.perf_counter()
    for rows in batches:
        input_ids, mask = pad_token_ids([ids[i] for i in rows], tokenizer.pad_token_id)
        z = sentence_embedding(
            net, torch.from_numpy(input_ids), torch.from_numpy(mask),
            {"pooling": "mean", "normalize": True},
        )  # fmt: skip
        loss = torch.nn.functional.cross_entropy(head(z), torch.as_tensor(y[rows]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_([*net.parameters(), *head.parameters()], 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return time.perf_counter() - start


def skmm_fit(texts, labels, batch_size, threads):
    from skmm import TextEncoder
    from skmm.finetune import FineTunedClassifier

    clf = FineTunedClassifier(
        TextEncoder(cache=False, progress=False, max_length=128),
        method="full",
        max_epochs=1,
        batch_size=batch_size,
        random_state=0,
        n_threads=threads,
        progress=False,
    )
    clf.fit(texts, labels)
    return clf.history_[0]["dur"]  # the epoch alone, as the other two are timed


def trainer_fit(texts, labels, batch_size, threads, tmp):
    import torch
    import transformers

    from skmm.backbones import load_text_model, minilm_path
    from skmm.backbones._hf_text import sentence_embedding

    torch.set_num_threads(threads)
    tokenizer, net = load_text_model(minilm_path())
    classes, y = np.unique(labels, return_inverse=True)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net, self.head = net, torch.nn.Linear(384, len(classes))

        def forward(self, input_ids, attention_mask, labels=None):
            z = sentence_embedding(self.net, input_ids, attention_mask,
                                   {"pooling": "mean", "normalize": True})  # fmt: skip
            logits = self.head(z)
            return {"loss": torch.nn.functional.cross_entropy(logits, labels), "logits": logits}

    encoded = tokenizer(texts, truncation=True, max_length=128)
    rows = [
        {"input_ids": i, "attention_mask": m, "labels": int(t)}
        for i, m, t in zip(encoded["input_ids"], encoded["attention_mask"], y)
    ]
    args = transformers.TrainingArguments(
        output_dir=tmp, per_device_train_batch_size=batch_size, num_train_epochs=1,
        report_to=[], save_strategy="no", logging_strategy="no", use_cpu=True,
        dataloader_num_workers=0, disable_tqdm=True,
    )  # fmt: skip
    trainer = transformers.Trainer(
        model=Model(), args=args, train_dataset=rows,
        data_collator=transformers.DataCollatorWithPadding(tokenizer),
    )  # fmt: skip
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start


def bench_speed(n, batch_size, threads, repeat):
    import tempfile

    texts, labels = _tweets(n)
    print(f"## Training throughput: {n} tweets, one epoch, method='full', batch {batch_size}, "
          f"{threads} thread(s), best of {repeat}\n")  # fmt: skip
    best = {"hand": np.inf, "skmm": np.inf, "trainer": np.inf}
    for _ in range(repeat):  # interleaved, so a busy spell slows all three alike
        best["hand"] = min(best["hand"], hand_loop(texts, labels, batch_size, threads))
        best["skmm"] = min(best["skmm"], skmm_fit(texts, labels, batch_size, threads))
        with tempfile.TemporaryDirectory() as tmp:
            best["trainer"] = min(
                best["trainer"], trainer_fit(texts, labels, batch_size, threads, tmp)
            )
    print("| loop | s per epoch | samples/s | skmm time / this |")
    print("|---|---|---|---|")
    for name, label in [("hand", "hand-written torch loop (same batches)"),
                        ("trainer", "transformers Trainer (defaults, same batch size)"),
                        ("skmm", "FineTunedClassifier")]:  # fmt: skip
        print(f"| {label} | {best[name]:.1f} | {n / best[name]:.1f} | "
              f"{best['skmm'] / best[name]:.2f} |")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["speed", "vader"])
    parser.add_argument(
        "--corpora", nargs="+", default=["tweets", "movie_reviews", "amazon", "nyt"]
    )
    parser.add_argument("--per-corpus", type=int, default=None, help="default: every row")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only-folds", type=int, nargs="+", help="run these folds (from 1)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--methods", nargs="+", default=["lora", "full"])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-speed", type=int, default=320)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if "speed" in args.parts:
        bench_speed(args.n_speed, args.batch_size, args.threads, args.repeat)
    if "vader" in args.parts:
        bench_vader(args.corpora, args.per_corpus, args.folds, args.epochs, args.methods,
                    args.threads, args.batch_size, args.only_folds)  # fmt: skip


if __name__ == "__main__":
    main()
