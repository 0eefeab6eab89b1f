"""Side-by-side benchmarks: chainrule against micrograd, PyTorch 0-d tensors and plain floats.

Run ``python -m benchmarks.bench`` (``make bench``) or ``--quick`` (``make bench-quick``);
``--help`` lists the options. The benchmark depends on nothing but the standard
library and the project: micrograd and PyTorch are used only when importable.

  engines.py    one small adapter per engine (leaf, relu, backward, grad, ...)
  workloads.py  the workloads, written once against the adapters, and the
                cross-engine agreement check
  bench.py      interleaved timing, memory measurements, the report and the CLI
"""

import os

# One thread for numpy's BLAS too (set before numpy is first imported): PyTorch runs on
# one thread here, and on a shared machine a BLAS thread pool only adds waiting.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
