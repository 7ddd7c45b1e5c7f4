"""Minor page faults per text of a warm encode: in this process, a subprocess or a worker."""


def faults_per_text():
    """Encode 96 texts twice on one torch thread; the faults per text of the second pass.

    Also returns ``MALLOC_TRIM_THRESHOLD_`` as this process sees it (Dask's workers have it).
    """
    import os
    import resource

    from skmm import TextEncoder
    from skmm._threads import torch_threads

    texts = [f"a calm and quiet evening by the river number {i}" for i in range(96)]
    encoder = TextEncoder(cache=False, progress=False, runtime="torch").fit(texts)
    with torch_threads(1):
        encoder.transform(texts)  # warm: the heap has grown to what a batch needs
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        encoder.transform(texts)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), faults / len(texts)
