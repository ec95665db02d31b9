#!/usr/bin/env bash
# The GPU check, in one go on a GPU machine without network (see ../shared/device/):
# install the carried wheels, run the tests marked gpu, then benchmarks/gpu.py (dense and
# sparse passes and fits, GPU vs CPU) and benchmarks/gpu_mlp.py (an MLP epoch vs PyTorch).
#
# Before, on a machine with a package index, from the project root:
#     bash ../shared/device/fetch-wheels.sh scikit-learn==1.9.1   # -> .whl/
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
python3 -c "import cupy, numpy, dask; import scipy, sklearn; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'scipy', scipy.__version__, 'sklearn', sklearn.__version__, 'dask', dask.__version__)"
echo "== tests marked gpu"
python3 -m pytest -q -m gpu -p no:cacheprovider --timeout 120 --durations 8 tests/test_gpu.py
tests=$?
echo "== benchmark: passes and fits, GPU vs CPU"
python3 benchmarks/gpu.py "$@"
bench=$?
echo "== benchmark: an MLP epoch, gdd-dask vs PyTorch on the GPU"
python3 benchmarks/gpu_mlp.py
mlp=$?
echo "== exit: tests $tests, benchmark $bench, mlp $mlp"
exit $(( tests || bench || mlp ))
