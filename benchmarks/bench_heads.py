"""Training cost of FusionClassifier versus a plain torch loop and skorch's defaults.

Same data, same module (FusionModule, one block, ``--head``), same optimizer, batch size
and epochs, no validation split. The plain loop shuffles and slices in-memory tensors;
"skorch defaults" is NeuralNetClassifier with its DataLoader and default callbacks.

    python benchmarks/bench_heads.py                       # 5000 x 384, 20 epochs
    python benchmarks/bench_heads.py --n-samples 1000 --epochs 5 --repeats 1
"""

import argparse
import time

import numpy as np
import torch
from skorch import NeuralNetClassifier

from skmm.heads import FusionClassifier
from skmm.heads._modules import FusionModule


def make_data(n_samples, n_features, n_classes, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(np.float32)
    y = (X @ rng.normal(size=(n_features, n_classes))).argmax(1).astype(np.int64)
    return X, y


def module_kwargs(args, n_features, n_classes):
    return dict(
        blocks=[("all", list(range(n_features)), None)],
        n_outputs=n_classes,
        head=args.head,
        hidden_size=args.hidden_size,
        n_layers=args.n_layers,
        n_heads=args.n_heads,
        dropout=0.1,
        modality_dropout=0.0,
    )


def plain_loop(X, y, args):
    torch.manual_seed(0)
    module = FusionModule(**module_kwargs(args, X.shape[1], int(y.max()) + 1)).to(args.device)
    optimizer = torch.optim.AdamW(module.parameters(), lr=args.lr, weight_decay=1e-2)
    Xt, yt = torch.as_tensor(X, device=args.device), torch.as_tensor(y, device=args.device)
    generator = torch.Generator().manual_seed(0)
    module.train()
    for _ in range(args.epochs):
        order = torch.randperm(len(Xt), generator=generator).to(args.device)
        total = 0.0
        for start in range(0, len(Xt), args.batch_size):
            rows = order[start : start + args.batch_size]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(module(Xt[rows]), yt[rows])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
    return module


def skorch_defaults(X, y, args):
    torch.manual_seed(0)
    module = module_kwargs(args, X.shape[1], int(y.max()) + 1)
    kwargs = {f"module__{k}": v for k, v in module.items()}
    net = NeuralNetClassifier(
        FusionModule,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        optimizer__weight_decay=1e-2,
        lr=args.lr,
        batch_size=args.batch_size,
        max_epochs=args.epochs,
        train_split=None,
        device=args.device,
        verbose=0,
        **kwargs,
    )
    return net.fit(X, y)


def fusion_classifier(X, y, args):
    clf = FusionClassifier(
        head=args.head,
        hidden_size=args.hidden_size,
        n_layers=args.n_layers,
        n_heads=args.n_heads,
        dropout=0.1,
        modality_dropout=0.0,
        lr=args.lr,
        batch_size=args.batch_size,
        max_epochs=args.epochs,
        device=args.device,
        random_state=0,
        n_threads=None,  # the same torch threads as the other two runs
    )
    return clf.fit(X, y)


def best_times(runs, X, y, args):
    """Best wall and CPU time per run, interleaved so machine load hits all runs alike."""
    wall = {name: [] for name in runs}
    cpu = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            fn(X, y, args)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: (min(wall[name]), min(cpu[name])) for name in runs}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=5000)
    parser.add_argument("--n-features", type=int, default=384)
    parser.add_argument("--n-classes", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden-size", type=int, default=128)
    parser.add_argument("--n-layers", type=int, default=1)
    parser.add_argument("--head", choices=["mlp", "gated", "attention"], default="mlp")
    parser.add_argument("--n-heads", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many fits")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    X, y = make_data(args.n_samples, args.n_features, args.n_classes)
    runs = {
        "plain torch loop": plain_loop,
        "skorch defaults": skorch_defaults,
        "FusionClassifier": fusion_classifier,
    }
    warm = argparse.Namespace(**{**vars(args), "epochs": 1})
    for fn in runs.values():
        fn(X[:256], y[:256], warm)
    seconds = best_times(runs, X, y, args)
    base_wall, base_cpu = seconds["plain torch loop"]
    print(
        f"head {args.head}, {args.n_samples} x {args.n_features}, {args.epochs} epochs, "
        f"batch {args.batch_size}, {args.device}, torch threads {torch.get_num_threads()}, "
        f"best of {args.repeats}"
    )
    print(f"{'':<18} {'wall s':>8} {'ratio':>6} {'cpu s':>8} {'ratio':>6}")
    for name, (wall, cpu) in seconds.items():
        print(f"{name:<18} {wall:8.3f} {wall / base_wall:6.2f} {cpu:8.3f} {cpu / base_cpu:6.2f}")


if __name__ == "__main__":
    main()
