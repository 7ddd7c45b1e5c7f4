#!/usr/bin/env bash
# The CUDA paths and the GPU figures, for a machine with a CUDA GPU (CI has none).
#
#   benchmarks/gpu_checks.sh OUTDIR tests   # device="auto", bf16/fp16, real OOM back-off, training
#   benchmarks/gpu_checks.sh OUTDIR bench   # VADER fine-tuning on all rows, encode speed vs ST
#
# Needs skmm's text, heads and finetune extras (and vaderSentiment) importable by $PYTHON.
# Each part writes its logs to OUTDIR and fits one 10-minute call on an H200; RESULTS.md
# ("On a GPU") records what one run gave.
set -uo pipefail
out=${1:?usage: gpu_checks.sh OUTDIR tests|bench}
part=${2:?usage: gpu_checks.sh OUTDIR tests|bench}
py=${PYTHON:-python3}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
mkdir -p "$out"
nvidia-smi -L
$py -c "import torch, transformers, peft, sklearn, skorch; print('torch', torch.__version__,
'transformers', transformers.__version__, 'peft', peft.__version__, 'sklearn', sklearn.__version__)"

case $part in
tests)
    timeout 300 $py -m pytest -p no:cacheprovider -q -rfEs tests/test_cuda.py tests/test_heads.py \
        tests/test_encoder_base.py tests/test_mel_encoder.py::test_stats_on_gpu_match_cpu \
        2>&1 | tee "$out/tests_cuda.log"
    ;;
bench)
    # The VADER table's two large corpora on every row; the four runs share the GPU.
    for corpus in nyt movie_reviews; do
        for method in lora full; do
            SKMM_CACHE_DIR=$(mktemp -d) timeout 450 $py benchmarks/bench_finetune.py \
                --parts vader --corpora $corpus --folds 5 --epochs 2 --methods $method \
                >"$out/vader_${corpus}_${method}.log" 2>&1 &
        done
    done
    wait
    timeout 60 $py benchmarks/bench_text.py --only speed --device cuda --n 20000 \
        2>&1 | tee "$out/text_speed_cuda.log"
    timeout 60 $py -m pytest -p no:cacheprovider -q -rfE tests/test_finetune.py \
        2>&1 | tee "$out/tests_finetune_cuda.log"
    ;;
*)
    echo "part must be tests or bench, not $part" >&2
    exit 2
    ;;
esac
