#!/usr/bin/env bash
# The GPU check, in one go on a GPU machine without network (see ../shared/device/):
# install the carried wheels, run the tests marked gpu, then benchmarks/gpu.py.
#
# Before, on a machine with a package index, from the project root:
#     bash ../shared/device/fetch-wheels.sh tqdm pytest pluggy iniconfig   # -> .whl/
# Then run this script from the project root on the GPU machine, carrying .whl:
#     bash benchmarks/gpu_check.sh [--gib 12]           # arguments go to benchmarks/gpu.py
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH="$PWD:/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
else
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1  # the CPU side: Dask's threads
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
python3 -c "import cupy, numpy, dask; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'dask', dask.__version__)"
echo "== tests marked gpu"
python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_gpu.py
tests=$?
echo "== benchmark"
python3 benchmarks/gpu.py "$@"
bench=$?
echo "== exit: tests $tests, benchmark $bench"
exit $(( tests || bench ))
