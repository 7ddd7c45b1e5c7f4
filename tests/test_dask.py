"""skmm.dask.transform on a real 2-process LocalCluster: lazy, right meta, one model per worker."""

import pickle
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("dask", reason="skmm.dask needs dask: pip install 'skmm[dask]'")
pytest.importorskip("distributed", reason="skmm.dask needs distributed: pip install 'skmm[dask]'")

import dask.array as da
import dask.bag as db
import dask.dataframe as dd
import pandas as pd
from dask_cluster import cluster_misses, local_cluster, make_texts, reset_workers
from page_faults import faults_per_text
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline

import skmm.dask
from skmm import TextEncoder
from skmm.cache import cache_info, cache_stats, clear_cache

N_TEXTS = 24


@pytest.fixture(scope="module")
def client():
    with local_cluster() as client:
        yield client


@pytest.fixture
def workers(client):
    reset_workers(client)
    return client


@pytest.fixture(scope="module")
def texts():
    return make_texts(N_TEXTS)


@pytest.fixture(scope="module")
def expected(texts):
    return TextEncoder(cache=False).fit(texts).transform(texts)


def test_import_skmm_does_not_import_dask():
    code = (
        "import sys, skmm; assert callable(skmm.dask.transform); "
        "print(sorted({'dask', 'distributed'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_series_is_encoded_lazily_on_the_workers(workers, texts, expected, tmp_path):
    index = pd.RangeIndex(100, 100 + N_TEXTS, name="clip")
    series = dd.from_pandas(pd.Series(texts, index=index, name="text"), npartitions=6)
    emb = skmm.dask.transform(TextEncoder(cache_dir=tmp_path), series)

    assert isinstance(emb, dd.DataFrame)
    assert list(emb.columns) == [f"text_{i}" for i in range(384)]
    assert set(emb.dtypes) == {np.dtype("float32")}
    assert cluster_misses(workers) == 0  # nothing ran yet

    cache_stats(reset=True)  # earlier tests encoded in this process
    result = emb.compute()
    assert result.index.equals(index)
    np.testing.assert_allclose(result.to_numpy(), expected, atol=1e-5)
    assert cluster_misses(workers) == N_TEXTS  # each text encoded once across the cluster
    assert cache_stats()["misses"] == 0  # and none in this process


def test_model_loads_once_per_worker_not_per_task(workers, texts, tmp_path):
    series = dd.from_pandas(pd.Series(texts), npartitions=8)  # 8 tasks, 2 workers
    skmm.dask.transform(TextEncoder(cache_dir=tmp_path), series).compute()

    models = skmm.dask.worker_models(workers)
    assert len(models) == 2
    assert all(len(keys) <= 1 for keys in models.values()), models
    keys = [key for worker_keys in models.values() for key in worker_keys]
    assert keys and all(key[0] == "TextEncoder" and key[2] == "cpu" for key in keys)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_workers_do_not_fault_activations_in_per_batch(workers):
    # Dask starts workers with MALLOC_TRIM_THRESHOLD_ set, which freezes glibc's mmap
    # threshold: about 500 page faults per text (1.4x the encoding time) until skmm
    # resets it when the worker loads its first model (skmm/_allocator.py)
    for trim, faults in workers.run(faults_per_text).values():
        assert trim is not None  # what Dask does (distributed.nanny.pre-spawn-environ)
        assert faults < 50, faults


def test_graph_carries_parameters_not_weights(texts):
    encoder = TextEncoder(cache=False).fit(texts)
    encoder.transform(texts[:2])  # the model is loaded in this process's registry
    series = dd.from_pandas(pd.Series(texts), npartitions=4)
    emb = skmm.dask.transform(encoder, series)
    # The weights are ~90 MB; the graph holds the encoder's parameters once.
    assert len(pickle.dumps(dict(emb.__dask_graph__()))) < 200_000


@pytest.mark.parametrize("kind", ["frame", "bag", "array"])
def test_other_collections(workers, texts, expected, kind, tmp_path):
    encoder = TextEncoder(cache_dir=tmp_path)
    if kind == "frame":
        frame = pd.DataFrame({"text": texts})
        emb = skmm.dask.transform(encoder, dd.from_pandas(frame, npartitions=3))
        assert isinstance(emb, dd.DataFrame)
    elif kind == "bag":
        emb = skmm.dask.transform(encoder, db.from_sequence(texts, npartitions=3))
        assert isinstance(emb, da.Array) and np.isnan(emb.shape[0])
    else:
        array = da.from_array(np.array(texts, dtype=object), chunks=10)
        emb = skmm.dask.transform(encoder, array)
        assert isinstance(emb, da.Array) and emb.shape == (N_TEXTS, 384)
    result = np.asarray(emb.compute())
    np.testing.assert_allclose(result, expected, atol=1e-5)


def test_fitted_pipeline_travels_whole(workers, texts, tmp_path):
    pipe = make_pipeline(TextEncoder(cache_dir=tmp_path), PCA(n_components=3)).fit(texts)
    emb = skmm.dask.transform(pipe, dd.from_pandas(pd.Series(texts), npartitions=3))
    assert list(emb.columns) == ["pca0", "pca1", "pca2"]
    np.testing.assert_allclose(emb.compute().to_numpy(), pipe.transform(texts), atol=1e-4)


def test_wrong_inputs_say_what_to_pass(texts):
    with pytest.raises(TypeError, match="dask collection"):
        skmm.dask.transform(TextEncoder(), texts)
    with pytest.raises(ValueError, match="1-D"):
        skmm.dask.transform(TextEncoder(), da.zeros((4, 2), chunks=2))
    with pytest.raises(ValueError, match="meta must be an empty"):
        skmm.dask.transform(make_pipeline(PCA()).fit(np.eye(3)), db.from_sequence([1]), meta=[])
    with pytest.raises(ValueError, match="cache=True"):
        skmm.dask.fill_cache(TextEncoder(cache="memory"), texts)


def test_two_workers_writing_the_same_entries_leave_one_valid_file_each(workers, texts, tmp_path):
    # Both partitions hold the same texts, so both workers write every entry at once.
    series = dd.from_pandas(pd.Series(texts + texts), npartitions=2)
    skmm.dask.transform(TextEncoder(cache_dir=tmp_path), series).compute()

    assert cache_info(tmp_path)["disk_entries"] == N_TEXTS
    assert not list(tmp_path.rglob("*.tmp"))  # no half-written file left behind
    clear_cache(disk=False)
    cache_stats(reset=True)
    TextEncoder(cache_dir=tmp_path).fit(texts).transform(texts)
    stats = cache_stats()
    assert (stats["disk_hits"], stats["misses"], stats["corrupt"]) == (N_TEXTS, 0, 0)


def test_fill_cache_encodes_each_distinct_text_once(workers, texts, tmp_path):
    encoder = TextEncoder(cache_dir=tmp_path)
    assert skmm.dask.fill_cache(encoder, texts + texts[:5]) == N_TEXTS
    assert cluster_misses(workers) == N_TEXTS
    assert cache_info(tmp_path)["disk_entries"] == N_TEXTS
    series = dd.from_pandas(pd.Series(texts), npartitions=2)
    assert skmm.dask.fill_cache(encoder, series) == N_TEXTS
    assert cluster_misses(workers) == N_TEXTS  # the second pass found everything cached
