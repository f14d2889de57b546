"""Tests of the Python binding on the committed tables and models (run by `make python-test`).

The binding's predictions are compared with the command-line tool's on the same table: the CLI
prints every number as the shortest text that round-trips (`format!("{x}")`), so parsing its CSV
gives the exact f64 and the comparison is for equality, not a tolerance.
"""

import io
import os
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import polars as pl
import pytest

import greenfactory as gf

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODEL = ROOT / "models/tss_cifar10.gfm"
TABLE = ROOT / "datasets/tss_cifar10_all.parquet"
LABELS = ROOT / "../shared/data/nats_tss/nats_tss_test_acc_hp200.csv"


def cli_binary():
    """The CLI: $GREENFACTORY_BIN, else target/release, else target/debug (`make test` builds it)."""
    env = os.environ.get("GREENFACTORY_BIN")
    cands = [pathlib.Path(env)] if env else [ROOT / "target/release/greenfactory", ROOT / "target/debug/greenfactory"]
    for c in cands:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    pytest.fail(f"no greenfactory binary at {', '.join(map(str, cands))}: run `make build` or `make test` first")


def to_pandas(df):
    """A pandas copy of a Polars frame (without pyarrow, which polars' to_pandas needs)."""
    return pd.DataFrame({c: df[c].to_list() for c in df.columns})


def run_cli(*args):
    r = subprocess.run([str(cli_binary()), *map(str, args)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, f"greenfactory {' '.join(map(str, args))} failed:\n{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def model():
    return gf.load_model(MODEL)


@pytest.fixture(scope="module")
def table():
    return pl.read_parquet(TABLE)


@pytest.fixture(scope="module")
def ok_rows(table):
    """The rows with every proxy (live cells), with the arch features the model was trained on."""
    return gf.with_arch_features(table.filter(pl.col("status") == "ok"), "tss")


@pytest.fixture(scope="module")
def cli_predictions():
    out = run_cli("predict", "--features", TABLE, "--model", MODEL, "--format", "csv")
    return pl.read_csv(io.StringIO(out), schema_overrides={"predicted": pl.Float64, "uncertainty": pl.Float64})


def test_metadata(model):
    names = model.feature_names
    assert len(names) == model.n_features == len(set(names))
    assert model.space == "tss" and model.dataset == "cifar10"
    cfg = model.config
    assert isinstance(cfg, dict)
    assert cfg["space"] == "tss" and cfg["dataset"] == "cifar10"
    # The proxies of the configuration are features, and so are all TSS arch features.
    assert set(cfg["proxies"]) <= set(names)
    assert set(gf.arch_feature_names("tss")) <= set(names)
    assert model.n_train > 10_000 and model.n_trees == model.params["n_trees"]
    cv = model.cv_metrics
    assert cv is not None and 0.8 < cv["kendall_tau"] <= 1 and cv["n"] == model.n_train
    imp = model.feature_importances()
    assert list(imp) == names
    assert abs(sum(imp.values()) - 1) < 1e-9 and min(imp.values()) >= 0
    assert "tss" in repr(model)


def test_predictions_equal_the_cli(model, table, ok_rows, cli_predictions):
    cli = cli_predictions
    assert cli.height == table.height
    assert cli["index"].to_list() == table["arch_index"].to_list()
    # Every live arch: the binding's forest output equals the CLI's to the last bit.
    mean, std = model.predict(ok_rows)
    by_index = cli.join(ok_rows.select(pl.col("arch_index").alias("index")), on="index", how="semi")
    assert by_index["index"].to_list() == ok_rows["arch_index"].to_list()
    assert (by_index["basis"] == "forest").all()
    np.testing.assert_array_equal(mean, by_index["predicted"].to_numpy())
    np.testing.assert_array_equal(std, by_index["uncertainty"].to_numpy())
    assert mean.dtype == np.float64 and std.shape == mean.shape == (ok_rows.height,)
    # Dead cells: the CLI gives chance by rule, which the binding exposes as known_accuracy.
    dead = table.filter(pl.col("status") != "ok")
    assert dead.height > 0
    dead_cli = cli.filter(pl.col("index").is_in(dead["arch_index"].to_list()))
    for i, p, u in dead_cli.select("index", "predicted", "uncertainty").iter_rows():
        assert gf.known_accuracy("tss", i, "cifar10") == p and u == 0
    assert gf.known_accuracy("tss", int(ok_rows["arch_index"][0]), "cifar10") is None


def test_every_input_form_gives_the_same_rows(model, ok_rows):
    sub = ok_rows.sample(n=300, seed=3)
    names = model.feature_names
    ref_mean, ref_std = model.predict(sub)
    # A 2-D array in model order, a dict of columns, pandas, reversed column order, a list.
    x = sub.select(names).to_numpy()
    forms = [
        x,
        x.tolist(),
        {n: sub[n].to_numpy() for n in reversed(names)},
        to_pandas(sub),
        sub.select(list(reversed(names))),
        np.asfortranarray(x),
    ]
    for f in forms:
        m, s = model.predict(f)
        np.testing.assert_array_equal(m, ref_mean)
        np.testing.assert_array_equal(s, ref_std)
    # Rows are scored independently: a row alone gives what it gave in the batch.
    m1, s1 = model.predict(x[7:8])
    assert (m1[0], s1[0]) == (ref_mean[7], ref_std[7])
    m0, s0 = model.predict(np.empty((0, len(names))))
    assert m0.shape == s0.shape == (0,)


def test_save_load_pickle_round_trip(model, ok_rows, tmp_path):
    assert model.to_bytes() == MODEL.read_bytes()
    p = tmp_path / "m.gfm"
    model.save(p)
    assert p.read_bytes() == MODEL.read_bytes()
    again = gf.load_model(p)
    assert again == model and again is not model
    for m2 in (pickle.loads(pickle.dumps(model)), gf.Model.from_bytes(model.to_bytes())):
        assert m2 == model
        x = ok_rows.head(50)
        for a, b in zip(m2.predict(x), model.predict(x)):
            np.testing.assert_array_equal(a, b)
    # The CLI reads a model saved by the binding.
    out = run_cli("predict", "--model", p, "--features", TABLE, "--format", "csv")
    assert out.splitlines()[0] == "index,arch,predicted,uncertainty,basis"


def test_bad_inputs_raise_with_the_name(model, ok_rows, tmp_path):
    names = model.feature_names
    sub = ok_rows.head(20)
    assert issubclass(gf.GreenfactoryError, ValueError)
    with pytest.raises(gf.GreenfactoryError, match="missing feature.*`jacov`"):
        model.predict(sub.drop("jacov"))
    with pytest.raises(gf.GreenfactoryError, match="missing feature.*`jacov`"):
        model.predict({n: sub[n].to_numpy() for n in names if n != "jacov"})
    # The shipped table without the arch features the shipped models use: the error says how.
    raw = pl.read_parquet(TABLE).filter(pl.col("status") == "ok").head(5)
    with pytest.raises(gf.GreenfactoryError, match="missing feature.*gf.with_arch_features"):
        model.predict(raw)
    with pytest.raises(gf.GreenfactoryError, match="unexpected column.*`synflow_v2`"):
        model.predict(sub.with_columns(pl.lit(1.0).alias("synflow_v2")))
    with pytest.raises(gf.GreenfactoryError, match="unexpected column.*`zen`"):
        model.predict(to_pandas(sub).assign(zen=0.0))
    x = sub.select(names).to_numpy()
    with pytest.raises(gf.GreenfactoryError, match=f"has {len(names) - 1} columns, the model has {len(names)}"):
        model.predict(x[:, 1:])
    with pytest.raises(gf.GreenfactoryError, match=r"must be 2-D.*reshape"):
        model.predict(x[0])
    with pytest.raises(gf.GreenfactoryError, match="must be 2-D"):
        model.predict(x[None])
    bad = x.copy()
    bad[4, names.index("epe_nas")] = np.nan
    with pytest.raises(gf.GreenfactoryError, match="non-finite value nan in feature `epe_nas` at row 4"):
        model.predict(bad)
    with pytest.raises(gf.GreenfactoryError, match="column `jacov` is not numeric"):
        model.predict(sub.with_columns(pl.lit("x").alias("jacov")))
    with pytest.raises(gf.GreenfactoryError, match="not a numeric 2-D array"):
        model.predict([["a"] * len(names)])
    # Dead cells have NaN proxies: with their arch column they get chance accuracy by rule, as
    # the CLI gives them; without it (an array) a NaN is refused, not scored.
    dead = gf.with_arch_features(pl.read_parquet(TABLE).filter(pl.col("status") != "ok"), "tss")
    mean, std = model.predict(dead)
    assert (mean == 10.0).all() and (std == 0.0).all()
    mixed = pl.concat([sub, dead.head(3).select(sub.columns)])
    mean, std = model.predict(mixed)
    np.testing.assert_array_equal(mean[:20], model.predict(sub)[0])
    assert (mean[20:] == 10.0).all() and (std[20:] == 0.0).all()
    with pytest.raises(gf.GreenfactoryError, match="non-finite"):
        model.predict(dead.select(names).to_numpy())
    # A live arch with a NaN proxy is still refused, even with its arch column.
    with pytest.raises(gf.GreenfactoryError, match="non-finite value nan in feature `epe_nas`"):
        model.predict(sub.with_columns(pl.lit(float("nan")).alias("epe_nas")))
    # pyarrow is in the venv: tables go to pandas and back through Parquet.
    pdf = pl.read_parquet(TABLE).head(5).to_pandas()
    pdf.to_parquet(tmp_path / "t.parquet")
    assert pd.read_parquet(tmp_path / "t.parquet")["arch_index"].tolist() == pdf["arch_index"].tolist()
    # Files.
    with pytest.raises(gf.GreenfactoryError, match="no_such.gfm"):
        gf.load_model(tmp_path / "no_such.gfm")
    raw = MODEL.read_bytes()
    trunc = tmp_path / "trunc.gfm"
    trunc.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(gf.GreenfactoryError, match="trunc.gfm: corrupt or truncated model"):
        gf.load_model(trunc)
    junk = tmp_path / "junk.gfm"
    junk.write_bytes(b"PK\x03\x04" + raw[4:100])
    with pytest.raises(gf.GreenfactoryError, match="junk.gfm: not a greenfactory model"):
        gf.load_model(junk)
    flipped = bytearray(raw)
    flipped[8] = 9  # format version 9
    with pytest.raises(gf.GreenfactoryError, match="model format version 9"):
        gf.Model.from_bytes(bytes(flipped))
    with pytest.raises(gf.GreenfactoryError):
        gf.Model.from_bytes(raw + b"\0")
    with pytest.raises(gf.GreenfactoryError, match="directory|Is a directory"):
        gf.load_model(tmp_path)


def test_table_config_check(model, table, tmp_path):
    cfg = gf.table_config(TABLE)
    assert cfg["config"] == model.config["config"] and len(cfg["archs"]) == table.height
    assert gf.check_table(model, TABLE) is True
    other = {**cfg, "config": {**cfg["config"], "batch_size": cfg["config"]["batch_size"] * 2}}
    p = tmp_path / "other.parquet"
    import json

    table.head(5).write_parquet(p, metadata={"greenfactory.proxy_config": json.dumps(other)})
    with pytest.raises(gf.GreenfactoryError, match="another proxy configuration.*batch_size"):
        gf.check_table(model, p)
    plain = tmp_path / "plain.parquet"
    table.head(5).write_parquet(plain)
    assert gf.table_config(plain) is None and gf.check_table(model, plain) is False


def test_arch_features(model, table):
    names, x = gf.arch_features("tss", table["arch"].head(100).to_list())
    assert names == gf.arch_feature_names("tss") and x.shape == (100, len(names))
    # Indices and strings give the same rows; the one-hot block has one op per edge.
    _, xi = gf.arch_features("tss", list(range(100)))
    np.testing.assert_array_equal(x, xi)
    onehot = x[:, :30].reshape(100, 6, 5)
    assert (onehot.sum(axis=2) == 1).all()
    for i in (0, 1, 15624):
        s = gf.arch_string("tss", i)
        assert gf.arch_index("tss", s) == i
    assert gf.arch_string("tss", 0) == table["arch"][0]
    assert gf.space_size("tss") == 15625 and gf.space_size("sss") == 32768
    assert gf.arch_features("sss", ["8:16:24:32:64"])[1].shape == (1, 40)
    # NAS-Bench-Macro: keys are arch strings (digits too), ints are indices (the key in base 3).
    names, xm = gf.arch_features("macro", ["12012201", 0])
    assert xm.shape == (2, 41) and names[:3] == ["layer1_id", "layer1_k3e3", "layer1_k5e6"]
    assert (xm[:, :24].reshape(2, 8, 3).sum(axis=2) == 1).all() and xm[1, 0] == 1
    assert gf.arch_string("macro", 5043) == "20220210" and gf.arch_index("macro", "20220210") == 5043
    assert gf.space_size("macro") == 6561
    # NAS-Bench-101: a cell is MATRIX;OPS (pruned on reading); its index names it, no order.
    cell = "0111/0001/0001/0000;input|conv3x3-bn-relu|maxpool3x3|output"
    names, xn = gf.arch_features("nb101", [cell])
    f = dict(zip(names, xn[0]))
    assert f["e0_6"] == 1 and f["v1_conv3x3"] == 1 and f["paths"] == 3 and f["depth"] == 2
    assert gf.arch_string("nb101", gf.arch_index("nb101", cell)) == cell
    with pytest.raises(gf.GreenfactoryError, match="unknown op"):
        gf.arch_features("nb101", ["011/001/000;input|conv5x5|output"])
    # DARTS: DARTS's Genotype(...) text or NASLib's compact form, printed as DARTS's text.
    compact = "[[(0, 3), (1, 3), (0, 3), (1, 3), (1, 3), (0, 2), (0, 2), (2, 5)], [(0, 0), (1, 0), (2, 2), (1, 0), (0, 0), (2, 2), (2, 2), (1, 0)]]"
    names, xd = gf.arch_features("darts", [compact])
    assert xd.shape == (1, len(names)) and dict(zip(names, xd[0]))["n_sep3"] == 5
    assert gf.arch_string("darts", gf.arch_index("darts", compact)).startswith("Genotype(normal=[('sep_conv_3x3', 0)")
    s = gf.sample_indices("tss", 50, seed=1)
    assert len(set(s)) == 50 and s == gf.sample_indices("tss", 50, 1)
    # Isomorphic archs share a class string (official index 1 is its own representative).
    classes = [gf.isomorphism_class("tss", i) for i in range(2000)]
    assert len(set(classes)) < 2000
    with pytest.raises(gf.GreenfactoryError, match="one string"):
        gf.arch_features("tss", table["arch"][0])
    with pytest.raises(gf.GreenfactoryError, match="arch #1: malformed TSS arch string"):
        gf.arch_features("tss", [table["arch"][0], "|conv~0|"])
    with pytest.raises(gf.GreenfactoryError, match="index 15625 out of range"):
        gf.arch_features("tss", [15625])
    for bad in (-1, 2**70):
        with pytest.raises(gf.GreenfactoryError, match="out of range"):
            gf.arch_string("tss", bad)
    with pytest.raises(gf.GreenfactoryError, match="unknown search space"):
        gf.arch_features("transnas101", [0])
    with pytest.raises(gf.GreenfactoryError, match="unknown dataset"):
        gf.known_accuracy("tss", 0, "mnist")


def test_train_and_evaluate(ok_rows, model):
    names = [n for n in ok_rows.columns if n not in gf.KEY_COLUMNS]
    sub = ok_rows.sample(n=1500, seed=5)
    # A stand-in target that the features determine, so the test needs no label data.
    y = np.log(sub["params"].to_numpy()) * 3 + sub["live_conv3x3"].to_numpy()
    m = gf.train(sub[:1000], y[:1000], n_trees=30, max_features=0.5, seed=3, space="tss", dataset="cifar10")
    assert m.feature_names == names and m.n_train == 1000 and m.config is None
    assert m.params["max_features"] == 0.5 and m.params["seed"] == 3
    pred, std = m.predict(sub[1000:])
    met = gf.metrics(y[1000:], pred)
    assert met["kendall_tau"] > 0.9 and met["n"] == 500 and (std >= 0).all()
    # Deterministic in the seed, independent of the thread count.
    m2 = gf.train(sub[:1000], y[:1000], n_trees=30, max_features=0.5, seed=3, n_threads=1, space="tss", dataset="cifar10")
    np.testing.assert_array_equal(m2.predict(sub[1000:])[0], pred)
    r = gf.evaluate(sub, y, n_train=1000, repeats=2, n_trees=20, seed=1)
    assert r["n_train"] == [1000, 1000] and len(r["repeats"]) == 2 and r["mean"]["kendall_tau"] > 0.9
    assert r == gf.evaluate(sub, y, n_train=1000, repeats=2, n_trees=20, seed=1)
    # With predictions: the same report, and the per-repeat predictions give its metrics.
    rp = gf.evaluate(sub, y, n_train=1000, repeats=2, n_trees=20, seed=1, predictions=True)
    preds = rp.pop("predictions")
    assert rp == r and len(preds) == 2
    for rep, p in zip(r["repeats"], preds):
        assert len(p["test_rows"]) == 500 and len(set(p["test_rows"])) == 500
        assert gf.metrics(y[p["test_rows"]], p["y_pred"]) == rep
        assert list(p["importances"]) == names and abs(sum(p["importances"].values()) - 1) < 1e-9
    groups = [gf.isomorphism_class("tss", a) for a in sub["arch"]]
    g = gf.evaluate(sub, y, protocol="isomorphism", groups=groups, repeats=2, n_trees=10)
    assert g["protocol"] == "group" and all(k >= 1200 for k in g["n_train"])
    with pytest.raises(gf.GreenfactoryError, match="needs groups"):
        gf.evaluate(sub, y, protocol="group")
    where = dict(space="tss", dataset="cifar10")
    with pytest.raises(gf.GreenfactoryError, match="max_features"):
        gf.train(sub, y, max_features=1.5, **where)
    with pytest.raises(gf.GreenfactoryError, match="n_trees"):
        gf.train(sub, y, n_trees=0, **where)
    with pytest.raises(gf.GreenfactoryError, match="X has 1500 rows, y has 1499"):
        gf.train(sub, y[1:], **where)
    with pytest.raises(gf.GreenfactoryError, match="unknown dataset"):
        gf.train(sub, y, space="tss", dataset="mnist")
    with pytest.raises(TypeError, match="dataset"):
        gf.train(sub, y, space="tss")
    # An extraction manifest (a shipped model's) is kept as given.
    m3 = gf.train(sub[:100], y[:100], n_trees=5, config=model.config, **where)
    assert m3.config == model.config and m3.proxy_config == model.proxy_config
    with pytest.raises(gf.GreenfactoryError, match="not a greenfactory extraction manifest"):
        gf.train(sub, y, config={"note": "mine"}, **where)
    with pytest.raises(gf.GreenfactoryError, match="leaves one side empty"):
        gf.evaluate(sub, y, n_train=1500)


@pytest.mark.skipif(not LABELS.exists(), reason="needs ../shared/data (NATS-Bench labels)")
def test_evaluate_equals_the_cli(ok_rows):
    """On the CLI's joined rows (the table's order, live cells, labelled), the binding's
    evaluate reproduces `greenfactory evaluate` (the CLI prints 4 decimals)."""
    labels = pl.read_csv(LABELS).select(pl.col("index").alias("arch_index"), pl.col("cifar10_test_acc"))
    rows = ok_rows.join(labels, on="arch_index", how="inner", maintain_order="left")
    assert rows["arch_index"].to_list() == ok_rows["arch_index"].to_list()
    features = [n for n in ok_rows.columns if n not in gf.KEY_COLUMNS]
    args = dict(n_train=1000, repeats=2, n_trees=20, max_features=0.33, seed=4)
    r = gf.evaluate(rows.select(features), rows["cifar10_test_acc"], **args)
    out = run_cli(
        "evaluate", "--features", TABLE, "--labels", LABELS, "--dataset", "cifar10", "--arch-features",
        "--n-train", "1000", "--repeats", "2", "--n-trees", "20", "--max-features", "0.33", "--seed", "4",
    )
    printed = {l.split()[0]: (float(l.split()[1]), float(l.split()[2])) for l in out.splitlines()[2:]}
    for cli_name, key in [("tau", "kendall_tau"), ("rho", "spearman"), ("R2", "r2"), ("MAE", "mae")]:
        assert printed[cli_name][0] == round(r["mean"][key], 4), cli_name
        assert printed[cli_name][1] == round(r["std"][key], 4), cli_name
    assert f"({rows.height} archs, {len(features)} features)" in out


def test_random_search_example_runs():
    r = subprocess.run(
        [sys.executable, str(ROOT / "python/examples/random_search.py"), str(ROOT)],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "best of" in r.stdout and "predicted CIFAR-10 test accuracy" in r.stdout


def test_sss_model_predicts_like_the_cli_and_says_what_it_predicts():
    """The shipped SSS model: hp=90 validation accuracy (never test accuracy), SSS arch
    features from the binding, and the CLI's predictions to the last bit."""
    sss_model = ROOT / "models/sss_cifar10.gfm"
    sss_table = ROOT / "datasets/sss_cifar10_all.parquet"
    m = gf.load_model(sss_model)
    assert m.space == "sss" and m.target == "valid_acc hp=90"
    assert m.label == "hp=90 validation accuracy"
    assert "valid_acc hp=90" in repr(m)
    rows = gf.with_arch_features(pl.read_parquet(sss_table).head(500), "sss")
    # The one-hot has one channel count per layer, equal to the c1..c5 columns.
    names, x = gf.arch_features("sss", rows["arch"].to_list())
    onehot = x.reshape(-1, 5, 8)
    assert (onehot.sum(axis=2) == 1).all()
    channels = (onehot.argmax(axis=2) + 1) * 8
    np.testing.assert_array_equal(channels, rows.select("c1", "c2", "c3", "c4", "c5").to_numpy())
    mean, std = m.predict(rows)
    out = run_cli("predict", "--features", sss_table, "--model", sss_model, "--format", "csv")
    cli = pl.read_csv(io.StringIO(out), schema_overrides={"predicted": pl.Float64, "uncertainty": pl.Float64})
    head = cli.head(500)
    assert head["index"].to_list() == rows["arch_index"].to_list()
    np.testing.assert_array_equal(mean, head["predicted"].to_numpy())
    np.testing.assert_array_equal(std, head["uncertainty"].to_numpy())
    # A model trained in Python on SSS rows records the SSS label kind unless told otherwise.
    y = rows["params"].to_numpy()
    t = gf.train(rows, y, n_trees=5, space="sss", dataset="cifar10")
    assert t.target == "valid_acc hp=90"
    with pytest.raises(gf.GreenfactoryError, match="label kind"):
        gf.train(rows, y, n_trees=5, space="sss", dataset="cifar10", target="valid_acc hp=")
