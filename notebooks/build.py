#!/usr/bin/env python3
"""Writes the course's notebooks, in English and in Russian, from this one file.

Each notebook is a list of cells; a Markdown cell holds its text in both languages, a code cell
is the same code in both (its printed labels come from the notebook's `T` table, filled in the
first code cell), so the two notebooks cannot drift apart. The notebooks are written without
outputs (run them to see the numbers); `python/tests/test_notebooks.py` checks that the committed
files are what this script writes, and executes every one of them.

    python3 notebooks/build.py          # rewrites notebooks/*.ipynb
"""

import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent


def md(en, ru):
    return ("markdown", {"en": en.strip("\n"), "ru": ru.strip("\n")})


def code(source):
    return ("code", source.strip("\n"))


def labels(table):
    """The first code cell's line that gives the notebook its printed words, per language."""
    return {lang: "T = " + json.dumps({k: v[lang] for k, v in table.items()}, ensure_ascii=False)
            for lang in ("en", "ru")}


# -- Lecture 4 in code -----------------------------------------------------------------------

LECTURE_WORDS = {
    "image": {"en": "the digit x, label", "ru": "цифра x, метка"},
    "agree": {"en": "agrees with the trace: largest difference", "ru": "совпадает с трассировкой: наибольшее расхождение"},
    "cost": {"en": "the cost C", "ru": "ошибка C"},
    "neuron": {"en": "neuron", "ru": "нейрон"},
    "delta": {"en": "δ of layer", "ru": "δ слоя"},
    "nabla_w": {"en": "rows of ∇W^(2) as images", "ru": "строки ∇W^(2) как изображения"},
    "epoch": {"en": "epoch", "ru": "эпоха"},
    "accuracy": {"en": "test accuracy", "ru": "точность на тестовой выборке"},
    "fd": {"en": "finite differences against back-propagation: largest relative error", "ru": "конечные разности против обратного распространения: наибольшая относительная ошибка"},
}

LECTURE = [
    md("""
# Lecture 4 in code: the error back-propagation method

Every formula of the lecture computed on one real handwritten digit, twice: with NumPy from the
network's weights `net.weights` and biases `net.biases`, and by the library (`net.trace`, the
same five steps the command line's `backprop trace` shows). Each cell checks that the two agree.

Install (from the repository root): `pip install ./python matplotlib`. No download: the digits
are compiled into the package.
""", """
# Лекция 4 в коде: метод обратного распространения ошибки

Каждая формула лекции, вычисленная на одной настоящей рукописной цифре дважды: с помощью NumPy по
весам `net.weights` и смещениям `net.biases` сети и библиотекой (`net.trace`, те же пять шагов, что
показывает команда `backprop trace`). Каждая ячейка проверяет, что результаты совпадают.

Установка (из корня репозитория): `pip install ./python matplotlib`. Ничего не скачивается: цифры
встроены в пакет.
"""),
    ("code-labels", LECTURE_WORDS, """
import numpy as np
import matplotlib.pyplot as plt
from IPython.display import HTML, display
import backprop

np.set_printoptions(precision=4, suppress=True)
X, y, X_test, y_test = backprop.datasets.mnist_10k()   # 8,000 digits to train on, 2,000 to test


def agree(name, ours, library):
    \"\"\"The NumPy value against the library's, to 1e-6 (float32, relative to values above 1).\"\"\"
    ours, library = np.asarray(ours, dtype=np.float64), np.asarray(library, dtype=np.float64)
    worst = float(np.max(np.abs(ours - library) / np.maximum(1.0, np.abs(library))))
    assert worst < 1e-6, (name, worst)
    print(f"{name}: {T['agree']} {worst:.1e}")


def table(matrix, rows=4, cols=6):
    \"\"\"The top-left corner of a matrix as a table.\"\"\"
    cells = "".join("<tr>" + "".join(f"<td>{v:.4f}</td>" for v in row[:cols]) + "<td>…</td></tr>"
                    for row in np.asarray(matrix)[:rows])
    display(HTML(f"<table>{cells}</table>"))
"""),
    md("""
## The network and its notation

Layers are numbered 1…L; layer 1 is the input. For l = 2…L the weighted input and the output
signal of layer l are

$$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, \\qquad a^{(l)} = \\sigma(z^{(l)}),$$

with $W^{(l)}$ of shape $(n_l, n_{l-1})$: one row per neuron of layer l. The lecture's network for
MNIST has $n = (784, 30, 10)$, the sigmoid $\\sigma(z) = 1/(1+e^{-z})$ and the quadratic cost.
""", """
## Сеть и обозначения

Слои нумеруются 1…L; слой 1 входной. Для l = 2…L взвешенный вход и выходной сигнал слоя l равны

$$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}, \\qquad a^{(l)} = \\sigma(z^{(l)}),$$

где матрица $W^{(l)}$ имеет размер $(n_l, n_{l-1})$: одна строка на каждый нейрон слоя l. Сеть из
лекции для MNIST: $n = (784, 30, 10)$, сигмоида $\\sigma(z) = 1/(1+e^{-z})$ и квадратичная ошибка.
"""),
    code("""
net = backprop.Network([784, 30, 10], seed=0)
W, b = net.weights, net.biases          # W[0] is W^(2), b[0] is b^(2)
print([w.shape for w in W], [v.shape for v in b])
table(W[0])
sigma = lambda z: 1 / (1 + np.exp(-z))
sigma_prime = lambda z: sigma(z) * (1 - sigma(z))
"""),
    md("""
## Step 1: take an example (x, y) and feed x to the input

$x$ is a digit of 28×28 pixels in [0, 1]; its target $y$ is the one-hot vector of its label.
""", """
## Шаг 1: взять образец (x, y) и подать сигнал x на вход сети

$x$ — цифра из 28×28 пикселей со значениями в [0, 1]; целевой вектор $y$ — унитарный код её метки.
"""),
    code("""
x, label = X_test[0], int(y_test[0])
target = np.eye(10)[label]
trace = net.trace(x, label)               # the library's five steps on this example
layers = {layer["l"]: layer for layer in trace["layers"]}
plt.figure(figsize=(2.5, 2.5)); plt.imshow(x.reshape(28, 28), cmap="gray_r")
plt.title(f"{T['image']} {label}"); plt.axis("off"); plt.show()
"""),
    md("""
## Step 2: compute the output signals layer by layer

$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$ and $a^{(l)} = \\sigma(z^{(l)})$ for l = 2, 3; then the cost of
the example, $C = \\|a^{(L)} - y\\|^2 / 2$.
""", """
## Шаг 2: последовательно вычислить выходные сигналы каждого слоя

$z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}$ и $a^{(l)} = \\sigma(z^{(l)})$ для l = 2, 3; затем ошибка на
прецеденте $C = \\|a^{(L)} - y\\|^2 / 2$.
"""),
    code("""
a = {1: x.astype(np.float64)}
z = {}
for l in (2, 3):
    z[l] = W[l - 2] @ a[l - 1] + b[l - 2]
    a[l] = sigma(z[l])
    agree(f"z^({l})", z[l], layers[l]["z"])
    agree(f"a^({l})", a[l], layers[l]["a"])
C = np.sum((a[3] - target) ** 2) / 2
agree(T["cost"], C, trace["cost"])
print("a^(3) =", a[3])
"""),
    md("""
## Step 3: the output error, BP1

How much each output neuron influences the cost:
$\\delta^{(L)} = \\nabla_a C \\circ \\sigma'(z^{(L)})$, and for the quadratic cost $\\nabla_a C = a^{(L)} - y$ (BP1').
""", """
## Шаг 3: мера влияния нейронов выходного слоя на ошибку, BP1

$\\delta^{(L)} = \\nabla_a C \\circ \\sigma'(z^{(L)})$; для квадратичной ошибки $\\nabla_a C = a^{(L)} - y$ (BP1').
"""),
    code("""
delta = {3: (a[3] - target) * sigma_prime(z[3])}
agree("δ^(3)", delta[3], layers[3]["delta"])
plt.figure(figsize=(5, 2)); plt.bar(range(10), delta[3]); plt.title(f"{T['delta']} 3")
plt.xlabel(T["neuron"]); plt.show()
"""),
    md("""
## Step 4: the errors of the hidden layers, BP2

Backwards through the layers: $\\delta^{(l)} = ((W^{(l+1)})^T \\delta^{(l+1)}) \\circ \\sigma'(z^{(l)})$.
""", """
## Шаг 4: в обратном порядке вычислить меру влияния для каждого слоя, BP2

$\\delta^{(l)} = ((W^{(l+1)})^T \\delta^{(l+1)}) \\circ \\sigma'(z^{(l)})$.
"""),
    code("""
delta[2] = (W[1].T @ delta[3]) * sigma_prime(z[2])
agree("δ^(2)", delta[2], layers[2]["delta"])
plt.figure(figsize=(8, 2)); plt.bar(range(30), delta[2]); plt.title(f"{T['delta']} 2")
plt.xlabel(T["neuron"]); plt.show()
"""),
    md("""
## Step 5: the gradient, BP3 and BP4

$\\partial C / \\partial b^{(l)} = \\delta^{(l)}$ (BP3) and $\\partial C / \\partial W^{(l)} = \\delta^{(l)} (a^{(l-1)})^T$ (BP4).
Each row of $\\nabla W^{(2)}$ belongs to one hidden neuron and has one entry per pixel: drawn as
an image, it shows which pixels of this digit move that neuron's weights.
""", """
## Шаг 5: градиент, BP3 и BP4

$\\partial C / \\partial b^{(l)} = \\delta^{(l)}$ (BP3) и $\\partial C / \\partial W^{(l)} = \\delta^{(l)} (a^{(l-1)})^T$ (BP4).
Каждая строка $\\nabla W^{(2)}$ относится к одному скрытому нейрону и содержит по числу на пиксель:
в виде изображения она показывает, какие пиксели этой цифры меняют веса нейрона.
"""),
    code("""
nabla_b = {l: delta[l] for l in (2, 3)}
nabla_w = {l: np.outer(delta[l], a[l - 1]) for l in (2, 3)}
for l in (2, 3):
    agree(f"∇b^({l})", nabla_b[l], layers[l]["nabla_b"])
    agree(f"∇W^({l})", nabla_w[l], layers[l]["nabla_w"])
table(nabla_w[3])
fig, axes = plt.subplots(1, 8, figsize=(12, 2))
for k, ax in enumerate(axes):
    v = np.abs(nabla_w[2][k]).max() or 1.0    # white is 0, red > 0, blue < 0
    ax.imshow(nabla_w[2][k].reshape(28, 28), cmap="coolwarm", vmin=-v, vmax=v)
    ax.axis("off"); ax.set_title(k)
fig.suptitle(T["nabla_w"]); plt.show()
"""),
    md("""
## Checking the gradient against finite differences

The derivative of $C$ by one weight, measured directly: $(C(w + h) - C(w - h)) / 2h$, on a copy of
the network in float64. Back-propagation must give the same numbers.
""", """
## Проверка градиента конечными разностями

Производная $C$ по одному весу, измеренная напрямую: $(C(w + h) - C(w - h)) / 2h$ на копии сети в
float64. Метод обратного распространения должен дать те же числа.
"""),
    code("""
net64 = backprop.Network([784, 30, 10], seed=0, dtype="float64")
Ws = [w.copy() for w in net64.weights]


def cost_with(l, i, j, step):
    changed = [w.copy() for w in Ws]
    changed[l - 2][i, j] += step
    net64.weights = changed
    return np.sum((net64.feedforward(x) - target) ** 2) / 2


h, worst = 1e-5, 0.0
_, nabla_w64 = net64.backprop(x, label)
for (l, i, j) in [(3, label, 0), (3, 0, 5), (2, 0, 300), (2, 7, 400), (2, 29, 500)]:
    numeric = (cost_with(l, i, j, h) - cost_with(l, i, j, -h)) / (2 * h)
    exact = nabla_w64[l - 2][i, j]
    worst = max(worst, abs(numeric - exact) / max(abs(exact), 1e-8))
net64.weights = Ws
print(T["fd"], f"{worst:.1e}")
assert worst < 1e-5
check = net64.gradient_check(X_test[:3], y_test[:3])    # the library's check, every layer
print(T["fd"], f"{check['max_relative_error']:.1e}")
assert check["max_relative_error"] < 1e-6
"""),
    md("""
## Step 6: mini-batch SGD

Steps 1–5 for every example of a mini-batch $V_i$ of m examples, the mean gradient
$\\nabla C_{V_i} = \\frac{1}{|V_i|} \\sum \\nabla C_{(x,y)}$, and the step
$W \\leftarrow W - \\eta \\nabla_W C_{V_i}$, $b \\leftarrow b - \\eta \\nabla_b C_{V_i}$; the lecture's
m = 10 and η = 3, for 30 epochs over the 8,000 training digits. The library does step 6 with one
matrix product per layer and mini-batch; here is one step by hand against it.
""", """
## Шаг 6: стохастический градиентный спуск по подвыборкам

Шаги 1–5 для каждого образца подвыборки $V_i$ из m образцов, средний градиент
$\\nabla C_{V_i} = \\frac{1}{|V_i|} \\sum \\nabla C_{(x,y)}$ и шаг
$W \\leftarrow W - \\eta \\nabla_W C_{V_i}$, $b \\leftarrow b - \\eta \\nabla_b C_{V_i}$; как в лекции,
m = 10 и η = 3, 30 эпох по 8 000 обучающим цифрам. Библиотека выполняет шаг 6 одним матричным
произведением на слой и подвыборку; ниже один шаг вручную в сравнении с ней.
"""),
    code("""
traces = [net.trace(X[k], int(y[k])) for k in range(10)]      # steps 1-5 for each example of V
mean_w = sum(np.outer(t["layers"][2]["delta"], t["layers"][1]["a"]) for t in traces) / 10
by_library = np.mean([net.backprop(X[k], int(y[k]))[1][1] for k in range(10)], axis=0)
agree("∇W^(3) (V)", mean_w, by_library)
eta = 3.0
W3_after = W[1] - eta * mean_w
print("W^(3) ← W^(3) − η ∇W^(3):", W3_after.shape)
"""),
    code("""
from IPython.display import clear_output

curve = []


def live(metrics):
    curve.append(metrics["test_accuracy"])
    clear_output(wait=True)
    plt.figure(figsize=(6, 3)); plt.plot(range(1, len(curve) + 1), curve, marker="o")
    plt.xlabel(T["epoch"]); plt.ylabel(T["accuracy"]); plt.ylim(0.7, 1.0); plt.grid(True); plt.show()


reports = net.train(X, y, epochs=30, batch_size=10, eta=3.0, seed=0, test=(X_test, y_test), callback=live)
"""),
    md("""
## The README's accuracy

The same training as `backprop train` with no flags: the README's 1831 / 2000 (91.55%) after 30
epochs, on any machine.
""", """
## Точность из README

То же обучение, что и `backprop train` без флагов: как в README, 1831 / 2000 (91,55%) после 30
эпох, на любой машине.
"""),
    code("""
final = reports[-1]["test_accuracy"]
print(f"{T['accuracy']}: {final:.2%}")
assert abs(final - 0.9155) < 1e-9
"""),
]


# -- The estimator in a scikit-learn workflow --------------------------------------------------

SKLEARN_WORDS = {
    "cv": {"en": "5-fold cross-validation accuracy", "ru": "точность при 5-кратной перекрёстной проверке"},
    "fit": {"en": "fit", "ru": "обучение"},
    "s": {"en": "s", "ru": "с"},
    "epochs": {"en": "epochs", "ru": "эпох"},
    "accuracy": {"en": "test accuracy", "ru": "точность на тестовой выборке"},
    "confusion": {"en": "confusion matrix on the test digits", "ru": "матрица ошибок на тестовых цифрах"},
    "data": {"en": "data", "ru": "данные"},
}

SKLEARN = [
    md("""
# `backprop.MLPClassifier` in a scikit-learn workflow

The lecture's engine as a scikit-learn estimator: the same parameters and defaults as
`sklearn.neural_network.MLPClassifier`, so it drops into a `Pipeline`, `cross_val_score` and the
metrics. Install: `pip install ./python scikit-learn matplotlib`.
""", """
# `backprop.MLPClassifier` в конвейере scikit-learn

Движок лекции как оценщик scikit-learn: те же параметры и значения по умолчанию, что у
`sklearn.neural_network.MLPClassifier`, поэтому он подходит для `Pipeline`, `cross_val_score` и
метрик. Установка: `pip install ./python scikit-learn matplotlib`.
"""),
    ("code-labels", SKLEARN_WORDS, """
import pathlib
import time
import warnings

import numpy as np
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import backprop

warnings.simplefilter("ignore", ConvergenceWarning)
"""),
    md("""
## A pipeline and cross-validation

Standardise the 8×8 digits of `load_digits`, then the network at scikit-learn's defaults
(one hidden layer of 100 ReLU neurons, Adam); five folds.
""", """
## Конвейер и перекрёстная проверка

Стандартизация цифр 8×8 из `load_digits`, затем сеть с параметрами scikit-learn по умолчанию
(один скрытый слой из 100 нейронов ReLU, Adam); пять блоков.
"""),
    code("""
X, y = load_digits(return_X_y=True)
pipe = make_pipeline(StandardScaler(), backprop.MLPClassifier(random_state=0))
scores = cross_val_score(pipe, X, y, cv=5)
print(f"{T['cv']}: {scores.mean():.4f} ± {scores.std():.4f}")
assert scores.mean() > 0.9
"""),
    code("""
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
pipe.fit(X_train, y_train)
ConfusionMatrixDisplay.from_estimator(pipe, X_test, y_test, colorbar=False)
plt.title(T["confusion"]); plt.show()
clf = pipe[-1]
print(clf.n_iter_, T["epochs"], "loss", round(clf.loss_, 5), [w.shape for w in clf.coefs_])
"""),
    md("""
## Against scikit-learn's own MLPClassifier on Fashion-MNIST

Both at every default but `random_state`, on 10,000 training images of Debian's
`dataset-fashion-mnist` (the embedded digits where it is absent) and at most 30 epochs, with the
time of each fit. The full comparison, on all 60,000 images, is `bench/python_vs_sklearn.py
--defaults`.
""", """
## Сравнение с MLPClassifier из scikit-learn на Fashion-MNIST

Оба с параметрами по умолчанию, кроме `random_state`, на 10 000 обучающих изображений из пакета
Debian `dataset-fashion-mnist` (если его нет, на встроенных цифрах) и не более чем 30 эпохах, со
временем обучения. Полное сравнение на всех 60 000 изображениях: `bench/python_vs_sklearn.py
--defaults`.
"""),
    code("""
import gzip


def idx(path):
    data = gzip.open(path).read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


fashion = pathlib.Path("/usr/share/datasets/fashion-mnist")
if (fashion / "train-images-idx3-ubyte.gz").exists():
    name = "Fashion-MNIST"
    Xf = idx(fashion / "train-images-idx3-ubyte.gz").reshape(-1, 784)[:10000] / 255.0
    yf = idx(fashion / "train-labels-idx1-ubyte.gz")[:10000].astype(np.int64)
    Xf_test = idx(fashion / "t10k-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0
    yf_test = idx(fashion / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
else:
    name = "mnist-10k"
    Xf, yf, Xf_test, yf_test = backprop.datasets.mnist_10k()
print(T["data"], name, Xf.shape, Xf_test.shape)
results = {}
for who, make in [("backprop", backprop.MLPClassifier), ("scikit-learn", SkMLP)]:
    start = time.perf_counter()
    model = make(random_state=0, max_iter=30).fit(Xf, yf)
    seconds = time.perf_counter() - start
    results[who] = (seconds, model.n_iter_, model.score(Xf_test, yf_test))
    print(f"{who}: {T['fit']} {seconds:.1f} {T['s']}, {model.n_iter_} {T['epochs']}, "
          f"{T['accuracy']} {results[who][2]:.4f}")
"""),
    code("""
fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3))
names = list(results)
left.bar(names, [results[n][0] for n in names]); left.set_title(f"{T['fit']}, {T['s']}")
right.bar(names, [results[n][2] for n in names]); right.set_title(T["accuracy"]); right.set_ylim(0.5, 1)
plt.show()
"""),
]


NOTEBOOKS = {"lecture4": LECTURE, "sklearn": SKLEARN}


def notebook(cells, lang):
    """The notebook of `cells` in `lang`, without outputs."""
    out = []
    for cell in cells:
        kind = cell[0]
        if kind == "markdown":
            out.append({"cell_type": "markdown", "metadata": {}, "source": cell[1][lang]})
        else:
            source = cell[1] if kind == "code" else labels(cell[1])[lang] + "\n" + cell[2].strip("\n")
            out.append({"cell_type": "code", "execution_count": None, "metadata": {},
                        "outputs": [], "source": source})
    for k, c in enumerate(out):  # nbformat keeps sources as lists of lines; ids are stable
        c["source"] = c["source"].splitlines(keepends=True)
        c["id"] = f"cell-{k}"
    return {
        "cells": out,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def written():
    """Every notebook's file name and text."""
    files = {}
    for name, cells in NOTEBOOKS.items():
        for lang in ("en", "ru"):
            text = json.dumps(notebook(cells, lang), ensure_ascii=False, indent=1) + "\n"
            files[f"{name}.{lang}.ipynb"] = text
    return files


if __name__ == "__main__":
    for name, text in written().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print("wrote", HERE / name)
