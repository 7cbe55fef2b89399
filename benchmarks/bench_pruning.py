"""Accuracy vs sparsity of pruned linear classifiers, with and without refit.

Task: 3-class text classification (which package a docstring comes from: numpy,
scipy or scikit-learn; :func:`sparse_estimators.datasets.load_docstrings`), TF-IDF
features, stratified 75/25 split. The dense model is an L2 logistic regression
(``SparseLogisticRegression(C=10, l1_ratio=0)``, one-vs-rest, ``coef_`` of shape
(3, n_features)). Its ``coef_`` is pruned, globally by magnitude, to

- unstructured sparsity levels 50% ... 99.5%;
- N:M patterns along the features: 2:4 and 4:8 (50%), 2:8 (75%), 1:8, 1:16, 1:32,
  1:64, 1:128;
- blocks of 8 consecutive features of one class, 50% ... 99.5% of the blocks;

each once by masking only (``refit=False``) and once with a refit of every class's
binary problem on its kept features (``PruneRefit``, ``refit=True``). The reference
is the L1-penalised model (``l1_ratio=1``) along a C grid: sparsity learned by the
penalty rather than imposed after training.

Prints a markdown table of held-out accuracy and saves the plot as
``benchmarks/pruning_curves.png``.

Usage::

    python benchmarks/bench_pruning.py [--out benchmarks/pruning_curves.png]
"""

import argparse
import platform
import time
import warnings

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split

from sparse_estimators.datasets import load_docstrings
from sparse_estimators.linear_model import SparseLogisticRegression
from sparse_estimators.sparsity import PruneRefit

LEVELS = (0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998)
NM = ((2, 4), (4, 8), (2, 8), (1, 8), (1, 16), (1, 32), (1, 64), (1, 128))
BLOCK = (1, 8)
L1_CS = (0.5, 1, 2, 5, 10, 20, 50, 100, 200)


def load():
    b = load_docstrings()
    X = TfidfVectorizer(min_df=2, sublinear_tf=True).fit_transform(b.data).tocsr()
    y = np.asarray(b.target)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/pruning_curves.png")
    args = parser.parse_args()
    Xt, Xv, yt, yv = load()
    print(f"# Pruning benchmark\n\nData: docstrings TF-IDF, train {Xt.shape}, "
          f"test {Xv.shape[0]} rows, 3 classes. Python {platform.python_version()}.\n")
    base = SparseLogisticRegression(C=10.0, l1_ratio=0.0)
    t0 = time.perf_counter()
    dense = base.fit(Xt, yt)
    dense_acc = dense.score(Xv, yv)
    print(f"Dense L2 model: accuracy {dense_acc:.4f} "
          f"({time.perf_counter() - t0:.2f} s fit)\n")

    rows = []          # (curve, label, sparsity, accuracy)
    configs = ([("unstructured", f"{s:.1%}", dict(sparsity=s)) for s in LEVELS]
               + [("n:m", f"{n}:{m}", dict(pattern="n:m", n=n, m=m)) for n, m in NM]
               + [("block", f"{s:.1%}", dict(pattern="block", sparsity=s,
                                              block_shape=BLOCK)) for s in LEVELS])
    for pattern, label, kw in configs:
        for refit in (False, True):
            model = PruneRefit(base, refit=refit, **kw).fit(Xt, yt)
            curve = f"{pattern}, {'refit' if refit else 'masked'}"
            rows.append((curve, label, model.sparsity_, model.score(Xv, yv)))

    for C in L1_CS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = SparseLogisticRegression(C=C, l1_ratio=1.0).fit(Xt, yt)
        rows.append(("L1 penalty (C grid)", f"C={C:g}", float(np.mean(model.coef_ == 0)),
                     model.score(Xv, yv)))

    print("| curve | setting | sparsity of coef_ | test accuracy | vs dense |")
    print("|---|---|---:|---:|---:|")
    for curve, label, s, acc in rows:
        print(f"| {curve} | {label} | {s:.4f} | {acc:.4f} | {acc - dense_acc:+.4f} |")
    plot(rows, dense_acc, args.out)
    print(f"\nPlot saved to {args.out}")


def plot(rows, dense_acc, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    styles = {"unstructured": "C0", "n:m": "C1", "block": "C2", "L1 penalty": "k"}
    curves = dict.fromkeys(r[0] for r in rows)
    for curve in curves:
        pts = sorted((s, a) for c, _, s, a in rows if c == curve)
        color = next(v for k, v in styles.items() if curve.startswith(k))
        ls = "--" if "masked" in curve else ("-" if "refit" in curve else ":")
        x = [100 * (1 - s) for s, _ in pts]
        ax.plot(x, [a for _, a in pts], ls, color=color, marker="o", ms=3, label=curve)
    s24, a24 = next((s, a) for c, label, s, a in rows if label == "2:4")
    ax.annotate("2:4", (100 * (1 - s24), a24), textcoords="offset points", xytext=(4, -12),
                fontsize=8)
    ax.axhline(dense_acc, color="grey", lw=0.8, label="dense L2 model")
    ax.set_xscale("log")
    ticks = [50, 20, 10, 5, 2, 1, 0.5, 0.2]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.invert_xaxis()          # sparser to the right
    ax.set_xlabel("density of coef_ (% non-zeros, log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Pruning a TF-IDF logistic regression (3 classes, docstrings)")
    ax.set_ylim(max(0.5, min(a for *_, a in rows) - 0.02), 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
